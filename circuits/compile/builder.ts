/**
 * The constraint builder: allocates signals, writes circom statements and implements the few gadgets the compiled
 * applets need (product, bit decomposition, zero test). Every gadget keeps its witness computable for any input in
 * the ranges the executor tracks, so a path that is not taken never makes the circuit unsatisfiable.
 */
import { bitLength, lcAdd, lcConst, lcIsConst, lcKey, lcScale, lcSig, type LC, type Val } from "./value.ts";

export { R as SNARK_FIELD } from "../setup/field.ts";
/** Integers the executor keeps unreduced stay well inside the field, so the field sum never wraps. */
export const MAX_BITS = 240;
const TERMS_FLAT = 128;
const TERMS_GROUP = 64;

export class Builder {
  readonly names: string[] = [];
  readonly lines: string[] = [];
  /** Internal signals live in one array w[] (inputs keep their circom names). */
  private internal = 0;
  private bitsCache = new Map<string, number[]>();
  private mulCache = new Map<string, LC>();
  private zeroCache = new Map<string, LC>();
  private constraints = 0;
  readonly insideIds: number[] = [];
  /** Known integer ranges of linear forms (keyed by lcKey with k = 0) that intervals alone cannot express. */
  private known = new Map<string, [bigint, bigint]>();
  /** A join dropped paths that had not claimed (see mergeStates): a later claim would make that unsound to assume. */
  prunedUnclaimed = false;

  constructor(readonly K: number) {}

  /** An input signal of the template (by its circom name, e.g. "ts[3]"). */
  input(name: string): number {
    this.names.push(name);
    return this.names.length - 1;
  }
  private fresh(): number {
    this.names.push(`w[${this.internal++}]`);
    return this.names.length - 1;
  }
  get internalCount(): number {
    return this.internal;
  }
  get constraintEstimate(): number {
    return this.constraints;
  }

  text(a: LC): string {
    const ids = [...a.terms.keys()].sort((x, y) => x - y);
    const parts: string[] = [];
    for (const id of ids) {
      const c = a.terms.get(id)!;
      const n = this.names[id]!;
      const mag = c < 0n ? -c : c;
      const term = mag === 1n ? n : `${mag}*${n}`;
      parts.push(parts.length === 0 ? (c < 0n ? `-${term}` : term) : c < 0n ? ` - ${term}` : ` + ${term}`);
    }
    if (a.k !== 0n || parts.length === 0)
      parts.push(parts.length === 0 ? `${a.k}` : a.k < 0n ? ` - ${-a.k}` : ` + ${a.k}`);
    // circom's type checker recurses once per operator of a flat sum and overflows its stack near a thousand terms
    // (xor chains of 64-bit values reach that): a long sum is written as parenthesised groups of 64 terms.
    if (parts.length <= TERMS_FLAT) return parts.join("");
    const groups = [parts.slice(0, TERMS_GROUP).join("")];
    for (let i = TERMS_GROUP; i < parts.length; i += TERMS_GROUP)
      groups.push(` + (0${parts.slice(i, i + TERMS_GROUP).join("")})`);
    return groups.join("");
  }

  /** [n = m] for the reading count n in 1..K: inside[m-1] - inside[m] (inside is a prefix mask, inside[K] = 0). */
  countIs(m: number): LC {
    const a = lcSig(this.insideIds[m - 1]!);
    return m < this.K ? lcAdd(a, lcSig(this.insideIds[m]!), -1n) : a;
  }
  /** A per-count table as a linear combination: Σ_m [n = m]·t[m-1]. */
  tableLC(t: bigint[]): LC {
    let lc = lcConst(0n);
    // Telescoped: Σ_m (inside[m-1] - inside[m])·t[m-1] = t[0] + Σ_{m>=1} inside[m]·(t[m] - t[m-1]).
    lc = lcConst(t[0]!);
    for (let m = 1; m < this.K; m++)
      if (t[m] !== t[m - 1]) lc = lcAdd(lc, lcSig(this.insideIds[m]!, t[m]! - t[m - 1]!));
    return lc;
  }
  /**
   * Records that the linear form `a` (its constant included) lies in [lo, hi] on every path. Only for facts the
   * template's inputs guarantee for every witness (the host's epoch window), never for facts of one path.
   */
  know(a: LC, lo: bigint, hi: bigint): void {
    this.known.set(lcKey({ terms: a.terms, k: 0n }), [lo - a.k, hi - a.k]);
  }
  /** The range of `a` from the recorded facts (as is or negated, plus a constant), if any. */
  knownRange(a: LC): [bigint, bigint] | undefined {
    const r = this.known.get(lcKey({ terms: a.terms, k: 0n }));
    if (r) return [r[0] + a.k, r[1] + a.k];
    const n = this.known.get(lcKey({ terms: lcScale(a, -1n).terms, k: 0n }));
    if (n) return [a.k - n[1], a.k - n[0]];
    return undefined;
  }

  /** Any value as an LC with its integer range. */
  lcOf(v: Val): { lc: LC; lo: bigint; hi: bigint } {
    if (v.kind === "c") return { lc: lcConst(v.c), lo: v.c, hi: v.c };
    if (v.kind === "n") {
      let lo = v.t[0]!;
      let hi = v.t[0]!;
      for (const x of v.t) {
        if (x < lo) lo = x;
        if (x > hi) hi = x;
      }
      return { lc: this.tableLC(v.t), lo, hi };
    }
    return { lc: v.lc, lo: v.lo, hi: v.hi };
  }

  mul(a: LC, b: LC): LC {
    if (lcIsConst(a)) return lcScale(b, a.k);
    if (lcIsConst(b)) return lcScale(a, b.k);
    const ka = lcKey(a);
    const kb = lcKey(b);
    const key = ka < kb ? `${ka}|${kb}` : `${kb}|${ka}`;
    const hit = this.mulCache.get(key);
    if (hit) return hit;
    const id = this.fresh();
    this.lines.push(`    ${this.names[id]} <== (${this.text(a)}) * (${this.text(b)});`);
    this.constraints++;
    const out = lcSig(id);
    this.mulCache.set(key, out);
    return out;
  }

  /** A new signal a + s·(b − a) (s boolean: a multiplexer) in one constraint, so that chains of them stay short. */
  select(sel: LC, a: LC, b: LC): LC {
    const id = this.fresh();
    const ta = this.text(a);
    this.lines.push(`    ${this.names[id]} <== ${ta} + (${this.text(sel)}) * ((${this.text(b)}) - (${ta}));`);
    this.constraints++;
    return lcSig(id);
  }

  /** Bits (little-endian, `n` of them) of y, an integer known to lie in [0, 2^n). One decomposition per (y, n). */
  bits(y: LC, n: number): LC[] {
    if (lcIsConst(y)) return Array.from({ length: n }, (_, i) => lcConst((y.k >> BigInt(i)) & 1n));
    const key = `${lcKey(y)}#${n}`;
    let ids = this.bitsCache.get(key);
    if (!ids) {
      ids = Array.from({ length: n }, () => this.fresh());
      const first = ids[0]!;
      const base = this.names[first]!.slice(2, -1);
      const y0 = this.text(y);
      this.lines.push(
        `    { var acc = 0; var e2 = 1;`,
        `      for (var i = 0; i < ${n}; i++) { w[${base} + i] <-- ((${y0}) >> i) & 1; w[${base} + i] * (w[${base} + i] - 1) === 0; acc += w[${base} + i] * e2; e2 = e2 + e2; }`,
        `      acc === ${y0}; }`,
      );
      this.constraints += n + 1;
      this.bitsCache.set(key, ids);
    }
    return ids.map((id) => lcSig(id));
  }

  /** 1 if d = 0 else 0, for an integer d with |d| below the field's half. */
  isZero(d: LC): LC {
    if (lcIsConst(d)) return lcConst(d.k === 0n ? 1n : 0n);
    const key = lcKey(d);
    const hit = this.zeroCache.get(key);
    if (hit) return hit;
    const inv = this.fresh();
    const out = this.fresh();
    const t = this.text(d);
    this.lines.push(
      `    ${this.names[inv]} <-- (${t}) != 0 ? 1 / (${t}) : 0;`,
      `    ${this.names[out]} <== 1 - (${t}) * ${this.names[inv]};`,
      `    (${t}) * ${this.names[out]} === 0;`,
    );
    this.constraints += 2;
    const r = lcSig(out);
    this.zeroCache.set(key, r);
    return r;
  }

  /** A new signal set by a witness hint only (the caller constrains it). */
  hint(expr: string): LC {
    const id = this.fresh();
    this.lines.push(`    ${this.names[id]} <-- ${expr};`);
    return lcSig(id);
  }

  /** A constraint that a linear combination is zero (a path that traps or an input outside its range). */
  assertZero(a: LC): void {
    if (lcIsConst(a)) {
      if (a.k !== 0n) throw new Error(`internal: constant constraint ${a.k} = 0`);
      return;
    }
    this.lines.push(`    ${this.text(a)} === 0;`);
    this.constraints++;
  }

  /** A new signal equal to the linear combination (for values read many times, e.g. a merged loop variable). */
  name(a: LC): LC {
    if (lcIsConst(a) || a.terms.size <= 1) return a;
    const id = this.fresh();
    this.lines.push(`    ${this.names[id]} <== ${this.text(a)};`);
    return lcSig(id);
  }

  /** Range check lo <= x <= hi for an input value (unconditional: callers feed zeros into unused slots). */
  range(x: LC, lo: bigint, hi: bigint): void {
    const n = Math.max(1, bitLength(hi - lo));
    this.bits(lcAdd(x, lcConst(-lo)), n);
    // Upper bound when hi - lo + 1 is not a power of two: also decompose hi - x.
    if (hi - lo + 1n !== 1n << BigInt(n)) this.bits(lcAdd(lcConst(hi), x, -1n), n);
  }
}
