// BabyJubJub points in extended coordinates (X:Y:Z:T) on the isomorphic a = -1 curve -u² + y² = 1 + d'·u²·y²
// (u = √-a · x, see codegen.ts), u = X/Z, y = Y/Z, T = XY/Z. The hwcd formulas are complete here (d' non-square),
// so they need no special cases: the constant-time signing path stays branch-free and the identity can be added.
import { fp_add, fp_sub, fp_mul, fp_sqr, fp_copy, fp_cmov, fp_is_zero, FP_ONE, FP_PM2 } from "./generated/fp";
import { CURVE_D2, BASE8_U, BASE8_Y } from "./generated/curve";

export const FE: usize = 40;
/** Extended point: X, Y, Z, T. */
export const PT: usize = 4 * FE;
/** Cached point for additions: Y-X, Y+X, 2Z, 2d'·T. */
export const CP: usize = 4 * FE;
/** Affine "niels" point for mixed additions: y-u, y+u, 2d'·u·y. */
export const NP: usize = 3 * FE;

const A = memory.data(40);
const B = memory.data(40);
const C = memory.data(40);
const D = memory.data(40);
const E = memory.data(40);
const F = memory.data(40);
const G = memory.data(40);
const H = memory.data(40);
const U = memory.data(40);
/** Never written: the field element 0. */
export const ZERO = memory.data(40);

export function fpInv(out: usize, a: usize): void {
  // a^(p-2), square-and-multiply over the public exponent: same sequence for every a.
  const acc = memory.data(40);
  fp_copy(acc, FP_ONE);
  for (let i = 253; i >= 0; i--) {
    fp_sqr(acc, acc);
    if ((load<u32>(FP_PM2 + (<usize>(i >> 5) << 2)) >> (i & 31)) & 1) fp_mul(acc, acc, a);
  }
  fp_copy(out, acc);
}

export function ptIdentity(r: usize): void {
  memory.fill(r, 0, PT);
  fp_copy(r + FE, FP_ONE);
  fp_copy(r + 2 * FE, FP_ONE);
}

/** Shared tail of the additions: from A = (Y1-X1)(Y2-X2), B = (Y1+X1)(Y2+X2), C = T1·2d'T2, D = 2·Z1Z2. */
@inline function addTail(r: usize): void {
  fp_sub(E, B, A);
  fp_sub(F, D, C);
  fp_add(G, D, C);
  fp_add(H, B, A);
  fp_mul(r, E, F);
  fp_mul(r + FE, G, H);
  fp_mul(r + 3 * FE, E, H);
  fp_mul(r + 2 * FE, F, G);
}

/** r = p + q with q in niels form (7M). r may alias p. */
export function ptAddNiels(r: usize, p: usize, q: usize): void {
  fp_sub(U, p + FE, p);
  fp_mul(A, U, q);
  fp_add(U, p + FE, p);
  fp_mul(B, U, q + FE);
  fp_mul(C, p + 3 * FE, q + 2 * FE);
  fp_add(D, p + 2 * FE, p + 2 * FE);
  addTail(r);
}

/** r = p + q with q in cached form (8M). r may alias p. */
export function ptAddCached(r: usize, p: usize, q: usize): void {
  fp_sub(U, p + FE, p);
  fp_mul(A, U, q);
  fp_add(U, p + FE, p);
  fp_mul(B, U, q + FE);
  fp_mul(C, p + 3 * FE, q + 3 * FE);
  fp_mul(D, p + 2 * FE, q + 2 * FE);
  addTail(r);
}

/** r = 2p (4M + 4S); T is computed only when withT (a doubling followed by a doubling does not need it). */
export function ptDbl(r: usize, p: usize, withT: bool): void {
  fp_sqr(A, p);
  fp_sqr(B, p + FE);
  fp_sqr(C, p + 2 * FE);
  fp_add(C, C, C);
  fp_add(E, p, p + FE);
  fp_sqr(E, E);
  fp_sub(E, E, A);
  fp_sub(E, E, B);
  fp_sub(G, B, A); // D + B with D = -A
  fp_sub(F, G, C);
  fp_add(H, A, B);
  fp_sub(H, ZERO, H); // D - B
  fp_mul(r, E, F);
  fp_mul(r + FE, G, H);
  if (withT) fp_mul(r + 3 * FE, E, H);
  fp_mul(r + 2 * FE, F, G);
}

/** Cached form of an extended point. */
export function ptToCached(r: usize, p: usize): void {
  fp_sub(r, p + FE, p);
  fp_add(r + FE, p + FE, p);
  fp_add(r + 2 * FE, p + 2 * FE, p + 2 * FE);
  fp_mul(r + 3 * FE, p + 3 * FE, CURVE_D2);
}

/** Negation of a cached point: -(u, y) = (-u, y) swaps Y-X with Y+X and negates T. */
export function ptNeg(r: usize, p: usize): void {
  fp_copy(r, p + FE);
  fp_copy(r + FE, p);
  fp_copy(r + 2 * FE, p + 2 * FE);
  fp_sub(r + 3 * FE, ZERO, p + 3 * FE);
}

/** Negation of a niels point (same shape as the cached one without Z). */
export function nielsNeg(r: usize, p: usize): void {
  fp_copy(r, p + FE);
  fp_copy(r + FE, p);
  fp_sub(r + 2 * FE, ZERO, p + 2 * FE);
}

/** Extended point from affine (Montgomery-form) x, y. */
export function ptFromAffine(r: usize, x: usize, y: usize): void {
  fp_copy(r, x);
  fp_copy(r + FE, y);
  fp_copy(r + 2 * FE, FP_ONE);
  fp_mul(r + 3 * FE, x, y);
}

/** Affine x, y of an extended point (one inversion). */
export function ptToAffine(x: usize, y: usize, p: usize): void {
  const zi = memory.data(40);
  fpInv(zi, p + 2 * FE);
  fp_mul(x, p, zi);
  fp_mul(y, p + FE, zi);
}

/** Niels form of affine (u, y). */
export function nielsFromAffine(r: usize, u: usize, y: usize): void {
  fp_mul(r + 2 * FE, u, y);
  fp_mul(r + 2 * FE, r + 2 * FE, CURVE_D2);
  fp_sub(r, y, u);
  fp_add(r + FE, y, u);
}

/** -u² + y² == 1 + d'·u²·y² for affine Montgomery-form (u, y); d' = CURVE_D2 / 2. */
export function onCurve(u: usize, y: usize): bool {
  fp_sqr(A, u);
  fp_sqr(B, y);
  fp_sub(C, B, A);
  fp_mul(D, A, B);
  fp_mul(D, D, CURVE_D2);
  fp_add(C, C, C);
  fp_add(E, FP_ONE, FP_ONE);
  fp_add(D, D, E);
  fp_sub(C, C, D); // 2·(y² - u²) - (2 + 2d'u²y²)
  return fp_is_zero(C);
}

// ---- fixed base Base8: 64 windows of radix 16, entries (j+1)·16^i·Base8 for j = 0..7, niels form.
export const COMB = memory.data(64 * 8 * 120);

export function combInit(): void {
  const base = memory.data(160), cached = memory.data(160), cur = memory.data(160);
  const x = memory.data(40), y = memory.data(40);
  ptFromAffine(base, BASE8_U, BASE8_Y);
  for (let i: usize = 0; i < 64; i++) {
    ptToCached(cached, base);
    memory.copy(cur, base, PT);
    for (let j: usize = 0; j < 8; j++) {
      ptToAffine(x, y, cur);
      nielsFromAffine(COMB + (i * 8 + j) * NP, x, y);
      ptAddCached(cur, cur, cached);
    }
    for (let k = 0; k < 4; k++) ptDbl(base, base, true);
  }
}

/** Signed radix-16 digits of a 32-byte little-endian scalar below 2^252, each in [-8, 7]. Branch-free. */
export const DIGITS = memory.data(64 * 4);
export function recode16(k: usize): void {
  let carry: i32 = 0;
  for (let i = 0; i < 64; i++) {
    const nib = (<i32>load<u8>(k + (<usize>i >> 1)) >> ((i & 1) << 2)) & 15;
    const v = nib + carry;
    carry = (v + 8) >> 4;
    store<i32>(DIGITS + (<usize>i << 2), v - (carry << 4));
  }
}

/** r = k·Base8, variable time (k public: verification). */
export function combMulVar(r: usize, k: usize): void {
  const neg = memory.data(120);
  recode16(k);
  ptIdentity(r);
  for (let i: usize = 0; i < 64; i++) {
    const e = load<i32>(DIGITS + (i << 2));
    if (e == 0) continue;
    const ent = COMB + (i * 8 + <usize>(e > 0 ? e - 1 : -e - 1)) * NP;
    if (e > 0) ptAddNiels(r, r, ent);
    else {
      nielsNeg(neg, ent);
      ptAddNiels(r, r, neg);
    }
  }
}

/** r = k·Base8 in constant time: every entry of every window is read and selected with masks. */
export function combMulCT(r: usize, k: usize): void {
  const sel = memory.data(120), neg = memory.data(120);
  recode16(k);
  ptIdentity(r);
  for (let i: usize = 0; i < 64; i++) {
    const e = load<i32>(DIGITS + (i << 2));
    const sgn = <u32>(e >> 31); // all ones when negative
    const abs = <u32>((e ^ (e >> 31)) - (e >> 31));
    // The identity in niels form: y-u = 1, y+u = 1, 2d'uy = 0.
    fp_copy(sel, FP_ONE);
    fp_copy(sel + FE, FP_ONE);
    memory.fill(sel + 2 * FE, 0, FE);
    for (let j: u32 = 1; j <= 8; j++) {
      const x = abs ^ j;
      const mask = ((x | (0 - x)) >> 31) - 1; // all ones when abs == j
      const ent = COMB + (i * 8 + <usize>(j - 1)) * NP;
      fp_cmov(sel, ent, mask);
      fp_cmov(sel + FE, ent + FE, mask);
      fp_cmov(sel + 2 * FE, ent + 2 * FE, mask);
    }
    nielsNeg(neg, sel);
    fp_cmov(sel, neg, sgn);
    fp_cmov(sel + FE, neg + FE, sgn);
    fp_cmov(sel + 2 * FE, neg + 2 * FE, sgn);
    ptAddNiels(r, r, sel);
  }
}
