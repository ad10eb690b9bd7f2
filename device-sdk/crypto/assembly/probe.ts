// Micro-benchmark entry points (used by device-sdk/crypto/bench.ts and the profiling script only): each runs a core
// operation n times inside Wasm, so the caller can divide CPU time by n without JS↔Wasm crossings in the figure.
import { fp_mul, fp_sqr, fp_mul_lazy, FP_ONE } from "./generated/fp";
import { STATE, poseidonPerm } from "./poseidon";

const X = memory.data(40);
const Y = memory.data(40);

/** n chained field multiplications (each depends on the last, as in Poseidon's S-box). */
export function probe_mul(n: i32): void {
  memory.copy(X, FP_ONE, 40);
  memory.copy(Y, FP_ONE, 40);
  store<u32>(Y, 12345);
  for (let i = 0; i < n; i++) fp_mul(X, X, Y);
}

export function probe_sqr(n: i32): void {
  memory.copy(X, FP_ONE, 40);
  store<u32>(X, 12345);
  for (let i = 0; i < n; i++) fp_sqr(X, X);
}

/** n Poseidon permutations of width t on STATE. */
export function probe_perm(t: i32, n: i32): void {
  for (let i = 0; i < n; i++) poseidonPerm(<usize>t);
}

/** n chained lazily reduced multiplications (Poseidon's form). */
export function probe_mul_lazy(n: i32): void {
  memory.copy(X, FP_ONE, 40);
  memory.copy(Y, FP_ONE, 40);
  store<u32>(Y, 12345);
  for (let i = 0; i < n; i++) fp_mul_lazy(X, X, Y);
}
