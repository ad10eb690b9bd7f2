/**
 * Groth16 proving on the Wasm pieces, step for step as circuits/native/groth16.cc: the QAP's evaluations from the
 * .zkey's coefficients, iNTT, multiplication onto the odd coset, NTT, H = A·B − C there; then the MSMs. The blinding
 * terms are folded into the MSMs as extra points (α₁ with scalar 1, δ₁ with r, …), so no separate point arithmetic.
 */
import type { NativeAddon } from "../native/loader.ts";
import { Q, R, FE } from "./codegen.ts";
import { rootOfUnity, type ProverExports, type WasmProver } from "./addon.ts";

const fromLe = (b: Uint8Array) => {
  let x = 0n;
  for (let i = b.length - 1; i >= 0; i--) x = (x << 8n) | BigInt(b[i]!);
  return x;
};
const le32 = (x: bigint) => {
  const b = new Uint8Array(32);
  for (let i = 0; i < 32; i++, x >>= 8n) b[i] = Number(x & 0xffn);
  return b;
};
const cat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) (out.set(p, at), (at += p.length));
  return out;
};
/** A standard-form affine G1 result back into the .zkey's Montgomery layout, to feed it to another MSM. */
const toMontG1 = (p: Uint8Array) =>
  cat(le32((fromLe(p.subarray(0, 32)) << 256n) % Q), le32((fromLe(p.subarray(32, 64)) << 256n) % Q));

export function proveWith(wp: WasmProver, x: ProverExports, args: Parameters<NativeAddon["prove"]>): Uint8Array {
  const [header, coeffs, witness, A, B1, B2, C, H, nPublic, n, rs] = args;
  for (const [i, b] of [header, coeffs, witness, A, B1, B2, C, H].entries())
    if (!(b instanceof Uint8Array)) throw new TypeError(`prove: argument ${i} must be a Uint8Array`);
  if (!(rs instanceof Uint8Array) || !Number.isInteger(nPublic) || !Number.isInteger(n))
    throw new TypeError("prove: nPublic and domainSize must be numbers, rs a Uint8Array");
  const fail = (m: string) => new RangeError(`prove: ${m}`);
  if (header.length !== 3 * 64 + 2 * 128) throw fail("the header points must be 448 bytes");
  if (witness.length % 32 !== 0) throw fail("the witness must be 32 bytes per value");
  const nVars = witness.length / 32;
  if (nVars < nPublic + 1) throw fail("the witness is shorter than the public signals");
  if (A.length !== nVars * 64 || B1.length !== nVars * 64 || B2.length !== nVars * 128)
    throw fail("the A/B1/B2/C point sections do not match the witness length");
  if (C.length !== (nVars - nPublic - 1) * 64)
    throw fail("the A/B1/B2/C point sections do not match the witness length");
  if (H.length !== n * 64) throw fail("the H section does not match the domain size");
  if (rs.length !== 64) throw fail("rs must be 64 bytes (r, s)");
  const log = Math.round(Math.log2(n));
  if (n <= 0 || 2 ** log !== n) throw fail("domain size is not a power of two");
  if (log + 1 > 28) throw fail("domain size is beyond what the odd-coset step supports (2^27)");
  if (coeffs.length < 4) throw fail("the coefficient section is truncated");
  const nCoef = new DataView(coeffs.buffer, coeffs.byteOffset, 4).getUint32(0, true);
  if (coeffs.length !== 4 + nCoef * 44) throw fail("the coefficient section's length does not match its count");

  // The QAP in Wasm memory.
  wp.begin();
  const w = wp.allocate(nVars * FE);
  const wRaw = wp.write(witness);
  x.fr_load(w, wRaw, nVars, 1);
  const a = wp.allocate(n * FE),
    b = wp.allocate(n * FE),
    c = wp.allocate(n * FE);
  wp.view(a, 2 * n * FE).fill(0);
  const cf = wp.write(coeffs.subarray(4));
  if (x.qap_eval(cf, nCoef, w, nVars, a, b, n) !== 0)
    throw fail("a coefficient refers to a matrix, row or signal out of range");
  x.fr_mul_sub(c, a, b, 0, n);
  const inc = wp.field(rootOfUnity(log + 1));
  for (const v of [a, b, c]) {
    wp.nttIn(v, log, true);
    x.fr_powers_mul(v, n, inc);
    wp.nttIn(v, log, false);
  }
  x.fr_mul_sub(a, a, b, c, n);
  const hp = wp.allocate(n * 32);
  x.fr_store(hp, a, n, 1);
  const h = wp.view(hp, n * 32).slice();

  const r = fromLe(rs.subarray(0, 32)) % R,
    s = fromLe(rs.subarray(32, 64)) % R;
  const g1 = (i: number) => header.subarray(64 * i, 64 * i + 64);
  const g2 = (i: number) => header.subarray(192 + 128 * i, 192 + 128 * i + 128);
  const [alpha1, beta1, delta1] = [g1(0), g1(1), g1(2)];
  const [beta2, delta2] = [g2(0), g2(1)];
  const one = le32(1n);
  const piA = wp.msmG1(cat(A, alpha1, delta1), cat(witness, one, le32(r)));
  const piB = wp.msmG2(cat(B2, beta2, delta2), cat(witness, one, le32(s)));
  const piB1 = wp.msmG1(cat(B1, beta1, delta1), cat(witness, one, le32(s)));
  const priv = 32 * (nPublic + 1);
  const piC = wp.msmG1(
    cat(C, H, toMontG1(piA), toMontG1(piB1), delta1),
    cat(witness.subarray(priv), h, le32(s), le32(r), le32((R - ((r * s) % R)) % R)),
  );
  return cat(piA, piB, piC);
}
