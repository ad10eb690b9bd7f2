// Poseidon with circomlib's parameters, following circomlibjs' poseidon_opt (sparse partial rounds), in Montgomery form.
// The state is kept lazily reduced in [0, 2p) (see codegen.ts): no final subtraction after products, constant
// additions fused into the S-box's last multiplication and into the partial rounds' s[k] += s0·v[k]. Callers read
// STATE[0] through a Montgomery multiplication by 1, which reduces it fully.
import { fp_mul_lazy, fp_muladd_lazy, fp_sqr_lazy, fp_dot_lazy, fp_add_lazy } from "./generated/fp";
import { POS_DATA, POS_INDEX } from "./generated/poseidon";

const FE: usize = 40;
/** The permutation state; callers write [0, inputs...] (Montgomery form) and read the hash from STATE[0]. */
export const STATE = memory.data(17 * 40);
const NS = memory.data(17 * 40);
const SQ = memory.data(40);
const S0 = memory.data(40);

@inline function el(off: u32): usize { return POS_DATA + <usize>off * FE; }

/** x = x^5 + c. */
@inline function pow5add(x: usize, c: usize): void {
  fp_sqr_lazy(SQ, x);
  fp_sqr_lazy(SQ, SQ);
  fp_muladd_lazy(x, SQ, x, c);
}

/** x = x^5. */
@inline function pow5(x: usize): void {
  fp_sqr_lazy(SQ, x);
  fp_sqr_lazy(SQ, SQ);
  fp_mul_lazy(x, SQ, x);
}

function addConsts(t: usize, c: usize): void {
  for (let i: usize = 0; i < t; i++) fp_add_lazy(STATE + i * FE, STATE + i * FE, c + i * FE);
}

/** S-box on every element, then the round constants c (all fused). */
function sboxAllAdd(t: usize, c: usize): void {
  for (let i: usize = 0; i < t; i++) pow5add(STATE + i * FE, c + i * FE);
}

/** STATE = mat · STATE, mat stored row-major (already transposed from circomlibjs' M[j][i]); one reduction per row. */
function mix(t: usize, mat: usize): void {
  for (let i: usize = 0; i < t; i++) fp_dot_lazy(NS + i * FE, mat + i * t * FE, FE, STATE, FE, <i32>t);
  memory.copy(STATE, NS, t * FE);
}

/** Runs the permutation for width t (2..17) on STATE. */
export function poseidonPerm(t: usize): void {
  const ix = POS_INDEX + (t - 2) * 20;
  const C = el(load<u32>(ix, 0));
  const S = el(load<u32>(ix, 4));
  const Mx = el(load<u32>(ix, 8));
  const Px = el(load<u32>(ix, 12));
  const nP = <usize>load<u32>(ix, 16);
  addConsts(t, C);
  for (let r: usize = 0; r < 3; r++) {
    sboxAllAdd(t, C + (r + 1) * t * FE);
    mix(t, Mx);
  }
  sboxAllAdd(t, C + 4 * t * FE);
  mix(t, Px);
  const sw: usize = 2 * t - 1;
  for (let r: usize = 0; r < nP; r++) {
    pow5add(STATE, C + (5 * t + r) * FE);
    const srow = S + sw * r * FE;
    fp_dot_lazy(S0, srow, FE, STATE, FE, <i32>t);
    for (let k: usize = 1; k < t; k++) fp_muladd_lazy(STATE + k * FE, STATE, srow + (t + k - 1) * FE, STATE + k * FE);
    memory.copy(STATE, S0, FE);
  }
  for (let r: usize = 0; r < 3; r++) {
    sboxAllAdd(t, C + (5 * t + nP + r * t) * FE);
    mix(t, Mx);
  }
  for (let i: usize = 0; i < t; i++) pow5(STATE + i * FE);
  mix(t, Mx);
}
