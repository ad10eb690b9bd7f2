// Fq helpers the generator does not emit, and Fq2 = Fq[u]/(u² + 1) (BN254's G2 field), 80 bytes per element.
import { fq_mul, fq_add, fq_sub, fq_is_zero, fq_copy, FQ_ONE, FQ_ZERO } from "./generated/fq";
export { fq_mul, fq_add, fq_sub, fq_is_zero, fq_copy };

export function fq_neg(o: usize, a: usize): void {
  fq_sub(o, FQ_ZERO, a);
}
export function fq_set_one(o: usize): void {
  fq_copy(o, FQ_ONE);
}
export function fq_set_zero(o: usize): void {
  memory.fill(o, 0, 40);
}

const T2: usize = memory.data(4 * 40);

/** (a0 + a1·u)(b0 + b1·u) = a0b0 − a1b1 + ((a0 + a1)(b0 + b1) − a0b0 − a1b1)·u; o may alias a or b. */
export function fq2_mul(o: usize, a: usize, b: usize): void {
  const t0 = T2,
    t1 = T2 + 40,
    s = T2 + 80,
    u = T2 + 120;
  fq_mul(t0, a, b);
  fq_mul(t1, a + 40, b + 40);
  fq_add(s, a, a + 40);
  fq_add(u, b, b + 40);
  fq_mul(s, s, u);
  fq_sub(s, s, t0);
  fq_sub(o + 40, s, t1);
  fq_sub(o, t0, t1);
}
export function fq2_add(o: usize, a: usize, b: usize): void {
  fq_add(o, a, b);
  fq_add(o + 40, a + 40, b + 40);
}
export function fq2_sub(o: usize, a: usize, b: usize): void {
  fq_sub(o, a, b);
  fq_sub(o + 40, a + 40, b + 40);
}
export function fq2_neg(o: usize, a: usize): void {
  fq_neg(o, a);
  fq_neg(o + 40, a + 40);
}
export function fq2_is_zero(a: usize): bool {
  return fq_is_zero(a) && fq_is_zero(a + 40);
}
export function fq2_copy(o: usize, a: usize): void {
  memory.copy(o, a, 80);
}
export function fq2_set_one(o: usize): void {
  fq_set_one(o);
  fq_set_zero(o + 40);
}
export function fq2_set_zero(o: usize): void {
  memory.fill(o, 0, 80);
}
