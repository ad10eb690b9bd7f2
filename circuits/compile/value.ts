/**
 * What the symbolic executor computes with. A Wasm value is one of
 * - concrete: a known constant (canonical unsigned for its width);
 * - per-count: known once the epoch's reading count n (1..K) is known, a table of K concrete values. Everything the
 *   runtime derives from the input length (the heap pointer after the input buffer, the loop bound) is of this kind,
 *   so control flow and addresses that depend only on n stay concrete per n and cost no constraints: in the circuit
 *   [n = m] is inside[m-1] - inside[m] (inside is a prefix mask), linear in the slots;
 * - symbolic: an integer x in [lo, hi] given as a linear combination of signals; the Wasm value is x mod 2^width.
 *   Wrap-around is applied lazily (a sum of K values stays exact in the field and is reduced once, where a
 *   comparison, division or the claim needs the canonical value).
 */

/** Σ coeff·signal + k over the integers (signals are ids into the builder's table). */
export interface LC {
  terms: Map<number, bigint>;
  k: bigint;
}

export type Val = { kind: "c"; c: bigint } | { kind: "n"; t: bigint[] } | { kind: "s"; lc: LC; lo: bigint; hi: bigint };

export const mask = (w: number) => (1n << BigInt(w)) - 1n;
export const konst = (c: bigint, w: number): Val => ({ kind: "c", c: c & mask(w) });
export const isConst = (v: Val): v is { kind: "c"; c: bigint } => v.kind === "c";

export function lcConst(k: bigint): LC {
  return { terms: new Map(), k };
}
export function lcSig(id: number, coeff = 1n): LC {
  return { terms: new Map([[id, coeff]]), k: 0n };
}
export function lcAdd(a: LC, b: LC, sb = 1n): LC {
  const terms = new Map(a.terms);
  for (const [id, c] of b.terms) {
    const s = (terms.get(id) ?? 0n) + sb * c;
    if (s === 0n) terms.delete(id);
    else terms.set(id, s);
  }
  return { terms, k: a.k + sb * b.k };
}
export function lcScale(a: LC, s: bigint): LC {
  if (s === 0n) return lcConst(0n);
  const terms = new Map<number, bigint>();
  for (const [id, c] of a.terms) terms.set(id, c * s);
  return { terms, k: a.k * s };
}
export const lcIsConst = (a: LC) => a.terms.size === 0;

/** A stable text key (terms by id) for caching decompositions and for equality of LCs. */
export function lcKey(a: LC): string {
  const ids = [...a.terms.keys()].sort((x, y) => x - y);
  return ids.map((id) => `${a.terms.get(id)}*${id}`).join("+") + "+" + a.k;
}

export const sym = (lc: LC, lo: bigint, hi: bigint): Val =>
  lcIsConst(lc) ? { kind: "c", c: lc.k } : { kind: "s", lc, lo, hi };

/** Values equal as Wasm values for sure (same constant, same table, same integer expression). */
export function sameVal(a: Val, b: Val, w: number): boolean {
  if (a.kind === "c" && b.kind === "c") return (a.c & mask(w)) === (b.c & mask(w));
  if (a.kind === "n" && b.kind === "n") return a.t.every((x, i) => x === b.t[i]);
  if (a.kind === "s" && b.kind === "s") return lcKey(a.lc) === lcKey(b.lc);
  return false;
}

export const bitLength = (x: bigint): number => (x <= 0n ? 0 : x.toString(2).length);
