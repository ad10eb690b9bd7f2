/**
 * Checked lookups: a load or store whose address depends on the readings but can take only a few values (a small
 * bucket array indexed by data, `buckets[v & 7]`). The address's canonical value lies in its tracked range and is
 * congruent to its constant modulo the gcd of its coefficients (the stride: 4 for an i32 array), which gives at most
 * LOOKUP_MAX candidate addresses. One zero test per candidate selects it (exactly one is 1, since the address is one
 * of them); a load is Σ sel·cell, a store rewrites every candidate cell as cell + sel·(v − cell). Each candidate is
 * an ordinary constant-address access, so the memory model's alias, partial-read and input checks apply to it.
 */
import type { Builder } from "./builder.ts";
import type { Memory } from "./memory.ts";
import { Refuse, type Arith } from "./ops.ts";
import { lcAdd, lcConst, sym, type LC, type Val } from "./value.ts";

/** More candidates than this and the access is refused (each costs a zero test, and a product per symbolic cell). */
export const LOOKUP_MAX = 32;

const gcd = (a: bigint, b: bigint): bigint => (b === 0n ? (a < 0n ? -a : a) : gcd(b, a % b));

function candidates(arith: Arith, addr: Val, offset: number, bytes: number, mem: Memory): { lc: LC; cands: number[] } {
  const u = arith.toU(addr, 32);
  let g = 0n;
  for (const c of u.lc.terms.values()) g = gcd(g, c);
  if (g === 0n) g = 1n;
  const r = ((u.lc.k % g) + g) % g;
  const first = u.lo + ((r - (u.lo % g) + g) % g);
  const count = first > u.hi ? 0n : (u.hi - first) / g + 1n;
  if (count > BigInt(LOOKUP_MAX)) {
    throw new Refuse(
      "DataDependentAddress",
      `a memory address depends on the readings' values and may take ${count} values (a checked lookup covers up to ${LOOKUP_MAX})`,
      `index memory with constants and loop counters, or with a data-dependent index into a small array (at most ${LOOKUP_MAX} entries, e.g. buckets[v & 7])`,
    );
  }
  const cands: number[] = [];
  const size = mem.pages * 65536;
  for (let a = first; a <= u.hi; a += g) {
    // An access past the end traps in the runtime; only in-bounds candidates are supported (the range is tracked, so
    // a candidate out of bounds is usually an index the applet never forms: mask the index to the array's size).
    if (a + BigInt(offset) + BigInt(bytes) > BigInt(size))
      throw new Refuse(
        "DataDependentAddress",
        `a data-dependent address may reach ${a + BigInt(offset)}, past the end of memory`,
        "mask the index to the array's size",
      );
    cands.push(Number(a));
  }
  return { lc: u.lc, cands };
}

export function lookupLoad(
  b: Builder,
  arith: Arith,
  mem: Memory,
  addr: Val,
  offset: number,
  bytes: number,
  ns: number[],
): Val {
  const { lc, cands } = candidates(arith, addr, offset, bytes, mem);
  let out = lcConst(0n);
  let lo: bigint | undefined;
  let hi: bigint | undefined;
  for (const a of cands) {
    const sel = b.isZero(lcAdd(lc, lcConst(BigInt(a)), -1n));
    const cell = b.lcOf(mem.load({ kind: "c", c: BigInt(a) }, offset, bytes, ns));
    out = lcAdd(out, b.mul(sel, cell.lc));
    lo = lo === undefined || cell.lo < lo ? cell.lo : lo;
    hi = hi === undefined || cell.hi > hi ? cell.hi : hi;
  }
  // The address is one of the candidates (its integer value is in its range and congruent to its constant), so
  // exactly one selector is 1 and the sum is that cell's value.
  return sym(b.name(out), lo ?? 0n, hi ?? 0n);
}

export function lookupStore(
  b: Builder,
  arith: Arith,
  mem: Memory,
  addr: Val,
  offset: number,
  bytes: number,
  v: Val,
  ns: number[],
): void {
  const { lc, cands } = candidates(arith, addr, offset, bytes, mem);
  const x = b.lcOf(v);
  for (const a of cands) {
    const sel = b.isZero(lcAdd(lc, lcConst(BigInt(a)), -1n));
    const at: Val = { kind: "c", c: BigInt(a) };
    const old = b.lcOf(mem.load(at, offset, bytes, ns));
    const nu = lcAdd(old.lc, b.mul(sel, lcAdd(x.lc, old.lc, -1n)));
    mem.store(at, offset, bytes, sym(b.name(nu), old.lo < x.lo ? old.lo : x.lo, old.hi > x.hi ? old.hi : x.hi), ns);
  }
}
