// BabyJubJub points in extended twisted-Edwards coordinates (X:Y:Z:T), x = X/Z, y = Y/Z, T = XY/Z.
// The hwcd formulas are complete on this curve (a square, d non-square), so they need no special cases:
// that keeps the constant-time signing path branch-free and lets the identity take part in additions.
import { fp_add, fp_sub, fp_mul, fp_copy, fp_cmov, fp_is_zero, FP_ONE, FP_PM2 } from "./generated/fp";
import { CURVE_A, CURVE_D, BASE8_X, BASE8_Y } from "./generated/curve";

export const FE: usize = 40;
/** Extended point: X, Y, Z, T. */
export const PT: usize = 4 * FE;
/** Affine "niels" point for mixed additions: x, y, d·x·y. */
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
    fp_mul(acc, acc, acc);
    if ((load<u32>(FP_PM2 + (<usize>(i >> 5) << 2)) >> (i & 31)) & 1) fp_mul(acc, acc, a);
  }
  fp_copy(out, acc);
}

export function ptIdentity(r: usize): void {
  memory.fill(r, 0, PT);
  fp_copy(r + FE, FP_ONE);
  fp_copy(r + 2 * FE, FP_ONE);
}

/** r = p + q (q in niels form). r may alias p. */
export function ptAddNiels(r: usize, p: usize, q: usize): void {
  fp_mul(A, p, q);
  fp_mul(B, p + FE, q + FE);
  fp_mul(C, p + 3 * FE, q + 2 * FE);
  fp_add(E, p, p + FE);
  fp_add(U, q, q + FE);
  fp_mul(E, E, U);
  fp_sub(E, E, A);
  fp_sub(E, E, B);
  fp_sub(F, p + 2 * FE, C);
  fp_add(G, p + 2 * FE, C);
  fp_mul(H, A, CURVE_A);
  fp_sub(H, B, H);
  fp_mul(r, E, F);
  fp_mul(r + FE, G, H);
  fp_mul(r + 3 * FE, E, H);
  fp_mul(r + 2 * FE, F, G);
}

/** r = p + q with q a cached point (X, Y, Z, d·T). r may alias p. */
export function ptAddCached(r: usize, p: usize, q: usize): void {
  fp_mul(A, p, q);
  fp_mul(B, p + FE, q + FE);
  fp_mul(C, p + 3 * FE, q + 3 * FE);
  fp_mul(D, p + 2 * FE, q + 2 * FE);
  fp_add(E, p, p + FE);
  fp_add(U, q, q + FE);
  fp_mul(E, E, U);
  fp_sub(E, E, A);
  fp_sub(E, E, B);
  fp_sub(F, D, C);
  fp_add(G, D, C);
  fp_mul(H, A, CURVE_A);
  fp_sub(H, B, H);
  fp_mul(r, E, F);
  fp_mul(r + FE, G, H);
  fp_mul(r + 3 * FE, E, H);
  fp_mul(r + 2 * FE, F, G);
}

/** r = 2p; T is computed only when withT (a doubling followed by another doubling does not need it). */
export function ptDbl(r: usize, p: usize, withT: bool): void {
  fp_mul(A, p, p);
  fp_mul(B, p + FE, p + FE);
  fp_mul(C, p + 2 * FE, p + 2 * FE);
  fp_add(C, C, C);
  fp_mul(D, A, CURVE_A);
  fp_add(E, p, p + FE);
  fp_mul(E, E, E);
  fp_sub(E, E, A);
  fp_sub(E, E, B);
  fp_add(G, D, B);
  fp_sub(F, G, C);
  fp_sub(H, D, B);
  fp_mul(r, E, F);
  fp_mul(r + FE, G, H);
  if (withT) fp_mul(r + 3 * FE, E, H);
  fp_mul(r + 2 * FE, F, G);
}

/** Cached form of an extended point: T multiplied by d. */
export function ptToCached(r: usize, p: usize): void {
  memory.copy(r, p, 3 * FE);
  fp_mul(r + 3 * FE, p + 3 * FE, CURVE_D);
}

/** Negation of a cached/extended point: (-X, Y, Z, -T). */
export function ptNeg(r: usize, p: usize): void {
  memory.copy(r, p, PT);
  fp_sub(r, ZERO, p);
  fp_sub(r + 3 * FE, ZERO, p + 3 * FE);
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

/** Niels form (x, y, d·x·y) of affine x, y. */
export function nielsFromAffine(r: usize, x: usize, y: usize): void {
  fp_copy(r, x);
  fp_copy(r + FE, y);
  fp_mul(r + 2 * FE, x, y);
  fp_mul(r + 2 * FE, r + 2 * FE, CURVE_D);
}

/** a·x² + y² == 1 + d·x²·y² for affine Montgomery-form x, y. */
export function onCurve(x: usize, y: usize): bool {
  fp_mul(A, x, x);
  fp_mul(B, y, y);
  fp_mul(C, A, CURVE_A);
  fp_add(C, C, B);
  fp_mul(D, A, B);
  fp_mul(D, D, CURVE_D);
  fp_add(D, D, FP_ONE);
  fp_sub(C, C, D);
  return fp_is_zero(C);
}

// ---- fixed base Base8: 64 windows of radix 16, entries (j+1)·16^i·Base8 for j = 0..7, niels form.
export const COMB = memory.data(64 * 8 * 120);

export function combInit(): void {
  const base = memory.data(160), cached = memory.data(160), cur = memory.data(160);
  const x = memory.data(40), y = memory.data(40);
  ptFromAffine(base, BASE8_X, BASE8_Y);
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
      fp_sub(neg, ZERO, ent);
      fp_copy(neg + FE, ent + FE);
      fp_sub(neg + 2 * FE, ZERO, ent + 2 * FE);
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
    memory.fill(sel, 0, NP);
    fp_copy(sel + FE, FP_ONE);
    for (let j: u32 = 1; j <= 8; j++) {
      const x = abs ^ j;
      const mask = ((x | (0 - x)) >> 31) - 1; // all ones when abs == j
      const ent = COMB + (i * 8 + <usize>(j - 1)) * NP;
      fp_cmov(sel, ent, mask);
      fp_cmov(sel + FE, ent + FE, mask);
      fp_cmov(sel + 2 * FE, ent + 2 * FE, mask);
    }
    fp_sub(neg, ZERO, sel);
    fp_sub(neg + 2 * FE, ZERO, sel + 2 * FE);
    fp_cmov(sel, neg, sgn);
    fp_cmov(sel + 2 * FE, neg + 2 * FE, sgn);
    ptAddNiels(r, r, sel);
  }
}
