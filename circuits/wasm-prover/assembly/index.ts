// Entry of the Wasm Groth16 prover (circuits/wasm-prover): conversions between the .zkey's byte layouts and ours,
// signed-digit decomposition, G1/G2 MSM, the NTT over Fr and the QAP step. JS owns the memory layout: it grows the
// memory, places inputs from heap_base() on and passes pointers; nothing here allocates.
import { fq_mul, fq_from_u256, fq_to_u256, FQ_K_IN, FQ_RAW_ONE } from "./generated/fq";
import { fr_mul, fr_add, fr_sub, fr_from_u256, fr_to_u256, FR_K_IN, FR_K_OUT, FR_K_W, FR_ONE, FR_RAW_ONE } from "./generated/fr";
export { g1_msm } from "./generated/g1";
export { g2_msm } from "./generated/g2";

export function heap_base(): usize {
  return __heap_base;
}

/** n affine points from the .zkey's layout (Montgomery 2^256, 32 bytes per coordinate) to ours (40 bytes each). */
export function fq_load(dst: usize, src: usize, count: i32): void {
  for (let i = 0; i < count; i++) {
    fq_from_u256(dst, src);
    fq_mul(dst, dst, FQ_K_IN);
    dst += 40;
    src += 32;
  }
}

/** Jacobian (x, y, z) over Fq^k to affine, standard form, 32 bytes per coordinate; infinity is all zeros. */
const TI: usize = memory.data(8 * 40);
export function fq_store_std(dst: usize, a: usize): void {
  fq_mul(TI, a, FQ_RAW_ONE);
  fq_to_u256(dst, TI);
}

const R0: u64 = 0x43e1f593f0000001;
const R1: u64 = 0x2833e84879b97091;
const R2: u64 = 0xb85045b68181585d;
const R3: u64 = 0x30644e72e131a029;

/** Reduces n 256-bit little-endian scalars below r in place (at most 5 subtractions each: 2^256 / r < 6). */
export function scalars_reduce(p: usize, n: i32): void {
  for (let i = 0; i < n; i++, p += 32) {
    let k0 = load<u64>(p, 0),
      k1 = load<u64>(p, 8),
      k2 = load<u64>(p, 16),
      k3 = load<u64>(p, 24);
    while (k3 > R3 || (k3 == R3 && (k2 > R2 || (k2 == R2 && (k1 > R1 || (k1 == R1 && k0 >= R0)))))) {
      const d0 = k0 - R0;
      const b0: u64 = k0 < R0 ? 1 : 0;
      const d1 = k1 - R1 - b0;
      const b1: u64 = k1 < R1 || (k1 == R1 && b0 == 1) ? 1 : 0;
      const d2 = k2 - R2 - b1;
      const b2: u64 = k2 < R2 || (k2 == R2 && b1 == 1) ? 1 : 0;
      k3 = k3 - R3 - b2;
      k0 = d0;
      k1 = d1;
      k2 = d2;
    }
    store<u64>(p, k0, 0);
    store<u64>(p, k1, 8);
    store<u64>(p, k2, 16);
    store<u64>(p, k3, 24);
  }
}

/** Signed c-bit digits of n reduced scalars: digit of window w for scalar i at dst[w·n + i] (i32). */
export function msm_digits(dst: usize, sc: usize, n: i32, c: i32, nWin: i32): void {
  const half: i32 = 1 << (c - 1);
  const mask: u64 = (<u64>1 << c) - 1;
  for (let i = 0; i < n; i++) {
    const s = sc + <usize>i * 32;
    let carry: i32 = 0;
    for (let w = 0; w < nWin; w++) {
      const bit = w * c;
      let d: u64 = 0;
      if (bit < 256) {
        const limb = bit >> 6,
          off = bit & 63;
        d = load<u64>(s + <usize>limb * 8) >> off;
        if (off + c > 64 && limb < 3) d |= load<u64>(s + <usize>(limb + 1) * 8) << (64 - off);
        d &= mask;
      }
      let v: i32 = <i32>d + carry;
      if (v > half) {
        v -= 1 << c;
        carry = 1;
      } else carry = 0;
      store<i32>(dst + (<usize>w * <usize>n + <usize>i) * 4, v);
    }
  }
}

/** n Fr values (32-byte LE) into ours: `mode` 0 = from the .zkey's Montgomery form, 1 = from standard form. */
export function fr_load(dst: usize, src: usize, n: i32, mode: i32): void {
  const k = mode == 0 ? FR_K_IN : FR_K_W;
  for (let i = 0; i < n; i++, dst += 40, src += 32) {
    fr_from_u256(dst, src);
    fr_mul(dst, dst, k);
  }
}
/** n of ours out to 32-byte LE: `mode` 0 = Montgomery (2^256) as the .zkey, 1 = standard form. */
export function fr_store(dst: usize, src: usize, n: i32, mode: i32): void {
  const k = mode == 0 ? FR_K_OUT : FR_RAW_ONE;
  for (let i = 0; i < n; i++, dst += 32, src += 40) {
    fr_mul(TI, src, k);
    fr_to_u256(dst, TI);
  }
}

/** a[i] *= k^i (k = 0 pointer: a[i] *= s for every i, with s at `s`). */
export function fr_powers_mul(a: usize, n: i32, k: usize): void {
  const p = TI + 40;
  memory.copy(p, FR_ONE, 40);
  for (let i = 0; i < n; i++, a += 40) {
    fr_mul(a, a, p);
    fr_mul(p, p, k);
  }
}
export function fr_scale(a: usize, n: i32, s: usize): void {
  for (let i = 0; i < n; i++, a += 40) fr_mul(a, a, s);
}
/** out[i] = a[i]·b[i] − (c ? c[i] : 0). */
export function fr_mul_sub(out: usize, a: usize, b: usize, c: usize, n: i32): void {
  for (let i = 0; i < n; i++, out += 40, a += 40, b += 40) {
    fr_mul(out, a, b);
    if (c) {
      fr_sub(out, out, c);
      c += 40;
    }
  }
}

/**
 * In-place radix-2 NTT of 2^log values with root w (ours); tw: scratch for 2^(log-1) twiddles. Bit-reversed input
 * order is produced first, as in circuits/native/groth16.cc.
 */
export function fr_ntt(a: usize, log: i32, w: usize, tw: usize): void {
  const n: usize = <usize>1 << log;
  const tmp = TI + 80;
  for (let i: usize = 1, j: usize = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      memory.copy(tmp, a + i * 40, 40);
      memory.copy(a + i * 40, a + j * 40, 40);
      memory.copy(a + j * 40, tmp, 40);
    }
  }
  memory.copy(tw, FR_ONE, 40);
  for (let i: usize = 1; i < n / 2; i++) fr_mul(tw + i * 40, tw + (i - 1) * 40, w);
  const v = TI + 120;
  for (let len: usize = 1; len < n; len <<= 1) {
    const step = n / (2 * len);
    for (let blk: usize = 0; blk < step; blk++) {
      const x0 = a + blk * 2 * len * 40;
      for (let k: usize = 0; k < len; k++) {
        const x = x0 + k * 40,
          y = x + len * 40;
        fr_mul(v, y, tw + k * step * 40);
        fr_sub(y, x, v);
        fr_add(x, x, v);
      }
    }
  }
}

/**
 * The QAP's evaluations: a[row] += c·w[signal] (matrix 0) or b[row] (matrix 1) for each .zkey coefficient
 * {m u32, row u32, signal u32, c (32 bytes, c·2^512)}; w is the witness loaded with fr_load(mode 1). Returns the
 * index + 1 of the first coefficient out of range, else 0.
 */
export function qap_eval(coeffs: usize, nCoef: i32, w: usize, nVars: u32, a: usize, b: usize, n: u32): i32 {
  const t = TI + 160;
  for (let i = 0; i < nCoef; i++) {
    const e = coeffs + <usize>i * 44;
    const m = load<u32>(e),
      row = load<u32>(e, 4),
      sig = load<u32>(e, 8);
    if (m > 1 || row >= n || sig >= nVars) return i + 1;
    fr_from_u256(t, e + 12);
    fr_mul(t, t, w + <usize>sig * 40);
    const dst = (m == 0 ? a : b) + <usize>row * 40;
    fr_add(dst, dst, t);
  }
  return 0;
}
