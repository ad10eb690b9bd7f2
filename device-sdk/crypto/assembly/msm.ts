// Variable-base scalar multiplication for verification (public scalars, so variable time is fine):
// width-5 wNAF digits and Straus' interleaving, so n points share one chain of doublings.
import { fp_mul, fp_eq } from "./generated/fp";
import { FE, PT, NP, ptIdentity, ptDbl, ptAddCached, ptAddNiels, ptToCached, ptToAffine, ptNeg, nielsNeg, nielsFromAffine, ptFromAffine } from "./curve";
import { BASE8_U, BASE8_Y } from "./generated/curve";

export const WNAF_LEN: usize = 257;
/** Eight cached odd multiples P, 3P, ..., 15P. */
export const TABLE: usize = 8 * PT;
const PAD = memory.data(40);

@inline function bits(k: usize, bit: i32, count: i32): i32 {
  return <i32>((load<u64>(k + (<usize>bit >> 3)) >> (<u64>bit & 7)) & ((1 << <u64>count) - 1));
}

/** Width-w NAF of a 32-byte little-endian scalar below 2^255 (libsecp256k1's recoding). Returns digits used. */
export function wnaf(out: usize, scalar: usize, w: i32): i32 {
  memory.fill(PAD, 0, 40);
  memory.copy(PAD, scalar, 32);
  memory.fill(out, 0, WNAF_LEN);
  let carry = 0, bit = 0, last = -1;
  while (bit < 256) {
    if (bits(PAD, bit, 1) == carry) { bit++; continue; }
    let now = w;
    if (now > 256 - bit) now = 256 - bit;
    let word = bits(PAD, bit, now) + carry;
    carry = (word >> (w - 1)) & 1;
    word -= carry << w;
    store<i8>(out + <usize>bit, <i8>word);
    last = bit;
    bit += now;
  }
  return last + 1;
}

/** Cached odd multiples of an extended point p (T must be valid). */
export function buildTable(tbl: usize, p: usize): void {
  const d = memory.data(160), dc = memory.data(160), cur = memory.data(160);
  ptToCached(tbl, p);
  ptDbl(d, p, true);
  ptToCached(dc, d);
  memory.copy(cur, p, PT);
  for (let j: usize = 1; j < 8; j++) {
    ptAddCached(cur, cur, dc);
    ptToCached(tbl + j * PT, cur);
  }
}

/** acc = Σ_k scalar_k·P_k from n tables and their wNAF digits (lens[k] = digits used). */
export function straus(acc: usize, n: i32, tables: usize, nafs: usize, lens: usize): void {
  const neg = memory.data(160);
  let top = 0;
  for (let k = 0; k < n; k++) top = max(top, load<i32>(lens + (<usize>k << 2)));
  ptIdentity(acc);
  for (let bit = top - 1; bit >= 0; bit--) {
    let any = false;
    for (let k = 0; k < n; k++) if (load<i8>(nafs + <usize>k * WNAF_LEN + <usize>bit) != 0) { any = true; break; }
    // T is needed by the next addition, and at the end by the caller.
    if (bit != top - 1) ptDbl(acc, acc, any || bit == 0);
    if (!any) continue;
    for (let k = 0; k < n; k++) {
      const d = <i32>load<i8>(nafs + <usize>k * WNAF_LEN + <usize>bit);
      if (d == 0) continue;
      const ent = tables + <usize>k * TABLE + <usize>((d > 0 ? d - 1 : -d - 1) >> 1) * PT;
      if (d > 0) ptAddCached(acc, acc, ent);
      else {
        ptNeg(neg, ent);
        ptAddCached(acc, acc, neg);
      }
    }
  }
}

/** Projective equality of two extended points. */
export function ptEq(p: usize, q: usize): bool {
  const a = memory.data(40), b = memory.data(40);
  fp_mul(a, p, q + 2 * FE);
  fp_mul(b, q, p + 2 * FE);
  if (!fp_eq(a, b)) return false;
  fp_mul(a, p + FE, q + 2 * FE);
  fp_mul(b, q + FE, p + 2 * FE);
  return fp_eq(a, b);
}

// ---- verification's S·Base8 joins the same doubling chain: width-8 wNAF over 64 odd multiples of Base8 (niels).
export const BASE_W: i32 = 8;
const BASE_TBL = memory.data(64 * 120);

export function baseTableInit(): void {
  const p = memory.data(160), d = memory.data(160), dc = memory.data(160), u = memory.data(40), y = memory.data(40);
  ptFromAffine(p, BASE8_U, BASE8_Y);
  ptDbl(d, p, true);
  ptToCached(dc, d);
  for (let j: usize = 0; j < 64; j++) {
    ptToAffine(u, y, p);
    nielsFromAffine(BASE_TBL + j * NP, u, y);
    ptAddCached(p, p, dc);
  }
}

/** acc = s·Base8 - h·P from P's table (width 5) and the wNAF digits of h and s (width BASE_W). */
export function strausVerify(acc: usize, tbl: usize, nafH: usize, lenH: i32, nafS: usize, lenS: i32): void {
  const neg = memory.data(160);
  const top = max(lenH, lenS);
  ptIdentity(acc);
  for (let bit = top - 1; bit >= 0; bit--) {
    const dh = <i32>load<i8>(nafH + <usize>bit);
    const ds = <i32>load<i8>(nafS + <usize>bit);
    if (bit != top - 1) ptDbl(acc, acc, dh != 0 || ds != 0 || bit == 0);
    if (dh != 0) {
      const ent = tbl + <usize>((dh > 0 ? dh - 1 : -dh - 1) >> 1) * PT;
      // subtracting h·P: a positive digit adds the negated entry
      if (dh < 0) ptAddCached(acc, acc, ent);
      else {
        ptNeg(neg, ent);
        ptAddCached(acc, acc, neg);
      }
    }
    if (ds != 0) {
      const ent = BASE_TBL + <usize>((ds > 0 ? ds - 1 : -ds - 1) >> 1) * NP;
      if (ds > 0) ptAddNiels(acc, acc, ent);
      else {
        nielsNeg(neg, ent);
        ptAddNiels(acc, acc, neg);
      }
    }
  }
}

/** acc == (u, y) affine, projectively. */
export function ptEqAffine(p: usize, u: usize, y: usize): bool {
  const a = memory.data(40);
  fp_mul(a, u, p + 2 * FE);
  if (!fp_eq(a, p)) return false;
  fp_mul(a, y, p + 2 * FE);
  return fp_eq(a, p + FE);
}
