// Prime-order-subgroup test for R8 in batch verification (why and the maths: codegen-torsion.ts).
// The circuit checks S·Base8 == R8 + h·8A exactly, so an R8 with a small-order part never verifies alone; but two
// such signatures whose small-order parts cancel would pass a random linear combination (z·T summed over the batch).
// When every R8 of the batch is in the prime-order subgroup, each S·Base8 - h·8A - R8 is too, and the combination
// is sound again. The test costs one exponentiation (~320 field operations) per signature.
import { fp_add, fp_sub, fp_mul, fp_sqr, fp_copy, fp_eq, fp_is_zero, fp_mul_lazy, fp_sqr_lazy, FP_ONE } from "./generated/fp";
import { TOR_LAM1, TOR_C1, TOR_LAM2, TOR_C2, TOR_U2, TOR_EXP, TOR_EXP_BITS } from "./generated/torsion";

const FE: usize = 40;
const U = memory.data(40), Z = memory.data(40), W = memory.data(40), UX = memory.data(40);
const L1 = memory.data(40), L2 = memory.data(40), V2 = memory.data(40), T = memory.data(40), X = memory.data(40);
const POW = memory.data(16 * 40);
const ZERO_FE = memory.data(40);

/**
 * out = a^e for the public exponent TOR_EXP, fixed 4-bit windows (variable time is fine: public inputs). Lazily
 * reduced products (in [0, 2p)); out is reduced fully at the end.
 */
function powExp(out: usize, a: usize): void {
  fp_copy(POW, FP_ONE);
  for (let i: usize = 1; i < 16; i++) fp_mul_lazy(POW + i * FE, POW + (i - 1) * FE, a);
  const top = (TOR_EXP_BITS + 3) & ~3;
  fp_copy(out, FP_ONE);
  for (let b = top - 4; b >= 0; b -= 4) {
    if (b != top - 4) {
      fp_sqr_lazy(out, out); fp_sqr_lazy(out, out); fp_sqr_lazy(out, out); fp_sqr_lazy(out, out);
    }
    const nib = (load<u32>(TOR_EXP + (<usize>(b >> 5) << 2)) >> (b & 31)) & 15;
    if (nib != 0) fp_mul_lazy(out, out, POW + <usize>nib * FE);
  }
  fp_add(out, out, ZERO_FE); // < 2p → canonical
}

/**
 * 1 when the Edwards point (x, y) (Montgomery-form coordinates, on the curve) is in the prime-order subgroup,
 * 0 when it is not, -1 when the pairing function vanishes there (only small-order points such as the identity):
 * the caller then checks that signature exactly, on its own.
 */
export function subgroupCheck(x: usize, y: usize): i32 {
  fp_add(U, FP_ONE, y);
  fp_sub(Z, FP_ONE, y);
  fp_mul(W, Z, x);
  fp_mul(UX, U, x);
  // ℓ1·W = U - λ1·U·x - c1·W, and the same for the tangent at 2T; V2 = U - u2·Z.
  fp_mul(T, TOR_LAM1, UX); fp_sub(L1, U, T); fp_mul(T, TOR_C1, W); fp_sub(L1, L1, T);
  fp_mul(T, TOR_LAM2, UX); fp_sub(L2, U, T); fp_mul(T, TOR_C2, W); fp_sub(L2, L2, T);
  fp_mul(T, TOR_U2, Z); fp_sub(V2, U, T);
  // X = (ℓ1W)^4 · (ℓ2W·W)^2 · V2^4 · U^7 · Z^5
  fp_sqr(X, L1); fp_mul(T, L2, W); fp_mul(X, X, T); // (ℓ1W)²·ℓ2W·W
  fp_mul(T, X, V2); fp_sqr(X, T); // ((ℓ1W)²·ℓ2W·W·V2)² = (ℓ1W)^4·(ℓ2W·W)²·V2²
  fp_sqr(T, V2); fp_mul(X, X, T); // · V2²
  fp_sqr(T, U); fp_mul(L1, T, U); fp_sqr(T, T); fp_mul(T, T, L1); fp_mul(X, X, T); // · U^7
  fp_sqr(T, Z); fp_sqr(T, T); fp_mul(T, T, Z); fp_mul(X, X, T); // · Z^5
  if (fp_is_zero(X)) return -1;
  powExp(T, X);
  return fp_eq(T, FP_ONE) ? 1 : 0;
}
