/** Scalar-field arithmetic for the dev setup (bn128 r), in plain bigints: modest sizes, run once per circuit. */
export const R = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;
/** 2^28 is the largest power-of-two subgroup of r - 1. */
const TWO_ADICITY = 28;

export const mod = (a: bigint): bigint => {
  const x = a % R;
  return x < 0n ? x + R : x;
};

export function pow(b: bigint, e: bigint): bigint {
  let r = 1n;
  b = mod(b);
  while (e > 0n) {
    if (e & 1n) r = (r * b) % R;
    b = (b * b) % R;
    e >>= 1n;
  }
  return r;
}

export const inv = (a: bigint): bigint => {
  if (mod(a) === 0n) throw new RangeError("inverse of zero");
  return pow(a, R - 2n);
};

/** Inverts every element with one field inversion (Montgomery's trick). */
export function batchInverse(xs: bigint[]): bigint[] {
  const n = xs.length;
  const acc: bigint[] = new Array(n);
  let a = 1n;
  for (let i = 0; i < n; i++) {
    acc[i] = a;
    a = (a * xs[i]!) % R;
  }
  let t = inv(a);
  const out: bigint[] = new Array(n);
  for (let i = n - 1; i >= 0; i--) {
    out[i] = (t * acc[i]!) % R;
    t = (t * xs[i]!) % R;
  }
  return out;
}

/**
 * The primitive 2^k-th root of unity snarkjs (ffjavascript F1Field) uses: w[28] = 5^((r-1)/2^28), squared down.
 * 5 is the smallest quadratic non-residue mod r, which is how ffjavascript picks it.
 */
export function rootOfUnity(k: number): bigint {
  if (k > TWO_ADICITY) throw new RangeError(`no 2^${k}-th root of unity in the bn128 scalar field`);
  let w = pow(5n, (R - 1n) >> BigInt(TWO_ADICITY));
  for (let i = TWO_ADICITY; i > k; i--) w = (w * w) % R;
  return w;
}

/** L_i(tau) for i in [0, count) over the domain of size n = 2^k: (tau^n - 1)/n * w^i / (tau - w^i). */
export function lagrangeAt(tau: bigint, k: number, count: number, stride = 1, offset = 0): bigint[] {
  const n = 1n << BigInt(k);
  const w = rootOfUnity(k);
  const z = mod((pow(tau, n) - 1n) * inv(n));
  const ws: bigint[] = new Array(count);
  const diffs: bigint[] = new Array(count);
  let wi = pow(w, BigInt(offset));
  const step = pow(w, BigInt(stride));
  for (let i = 0; i < count; i++) {
    ws[i] = wi;
    diffs[i] = mod(tau - wi);
    wi = (wi * step) % R;
  }
  const invs = batchInverse(diffs);
  return ws.map((x, i) => (((z * x) % R) * invs[i]!) % R);
}
