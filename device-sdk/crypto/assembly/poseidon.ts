// Poseidon with circomlib's parameters, following circomlibjs' poseidon_opt (sparse partial rounds), in Montgomery form.
import { fp_add, fp_mul, fp_sqr, fp_dot } from "./generated/fp";
import { POS_DATA, POS_INDEX } from "./generated/poseidon";

const FE: usize = 40;
/** The permutation state; callers write [0, inputs...] (Montgomery form) and read the hash from STATE[0]. */
export const STATE = memory.data(17 * 40);
const NS = memory.data(17 * 40);
const SQ = memory.data(40);
const TMP = memory.data(40);
const S0 = memory.data(40);

@inline function el(off: u32): usize { return POS_DATA + <usize>off * FE; }

function pow5(x: usize): void {
  fp_sqr(SQ, x);
  fp_sqr(SQ, SQ);
  fp_mul(x, SQ, x);
}

function addConsts(t: usize, c: usize): void {
  for (let i: usize = 0; i < t; i++) fp_add(STATE + i * FE, STATE + i * FE, c + i * FE);
}

function sboxAll(t: usize): void {
  for (let i: usize = 0; i < t; i++) pow5(STATE + i * FE);
}

/** STATE = mat · STATE, mat stored row-major (already transposed from circomlibjs' M[j][i]); one reduction per row. */
function mix(t: usize, mat: usize): void {
  for (let i: usize = 0; i < t; i++) fp_dot(NS + i * FE, mat + i * t * FE, FE, STATE, FE, <i32>t);
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
    sboxAll(t);
    addConsts(t, C + (r + 1) * t * FE);
    mix(t, Mx);
  }
  sboxAll(t);
  addConsts(t, C + 4 * t * FE);
  mix(t, Px);
  const sw: usize = 2 * t - 1;
  for (let r: usize = 0; r < nP; r++) {
    pow5(STATE);
    fp_add(STATE, STATE, C + (5 * t + r) * FE);
    const srow = S + sw * r * FE;
    fp_dot(S0, srow, FE, STATE, FE, <i32>t);
    for (let k: usize = 1; k < t; k++) {
      fp_mul(TMP, STATE, srow + (t + k - 1) * FE);
      fp_add(STATE + k * FE, STATE + k * FE, TMP);
    }
    memory.copy(STATE, S0, FE);
  }
  for (let r: usize = 0; r < 3; r++) {
    sboxAll(t);
    addConsts(t, C + (5 * t + nP + r * t) * FE);
    mix(t, Mx);
  }
  sboxAll(t);
  mix(t, Mx);
}
