/**
 * Writes the initial Groth16 zkey (what `snarkjs zkey new` would write from a prepared powers-of-tau file) directly
 * from known toxic waste: every point is [scalar]G with the scalar computed by field arithmetic (Lagrange basis at
 * tau, then the R1CS columns). Byte-for-byte the same layout, coefficient section and circuit hash as snarkjs, so
 * `snarkjs zkey beacon` / `zkey verify` / `groth16 prove` accept it. Dev only: whoever knows the seed can forge.
 */
import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import { readR1cs, type R1cs } from "./r1cs.ts";
import { R, mod, pow, lagrangeAt } from "./field.ts";
import type { FixedBasePool } from "./fixed-base.ts";

export const Q = 21888242871839275222246405745257275088696311157297823662689037894645226208583n;

export interface Toxic {
  tau: bigint;
  alpha: bigint;
  beta: bigint;
}

export interface ZkeyInfo {
  nConstraints: number;
  nVars: number;
  nPublic: number;
  domainPower: number;
}

export type Progress = (stage: string, done: number, total: number) => void;

const u32 = (x: number, be = false) => {
  const b = Buffer.alloc(4);
  be ? b.writeUInt32BE(x) : b.writeUInt32LE(x);
  return b;
};
export function le(x: bigint, n = 32): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) {
    b[i] = Number(x & 0xffn);
    x >>= 8n;
  }
  return b;
}
/** Sections of a snarkjs binfile, in file order. */
export function readBinSections(buf: Buffer, type: string): [number, Buffer[]][] {
  if (buf.subarray(0, 4).toString("latin1") !== type) throw new Error(`not a ${type} file`);
  const n = buf.readUInt32LE(8);
  const out: [number, Buffer[]][] = [];
  let p = 12;
  for (let i = 0; i < n; i++) {
    const id = buf.readUInt32LE(p);
    const size = Number(buf.readBigUInt64LE(p + 4));
    out.push([id, [buf.subarray(p + 12, p + 12 + size)]]);
    p += 12 + size;
  }
  return out;
}

/** snarkjs's binfile container: magic, version, then (id, size, bytes) sections. */
export function binFile(type: string, sections: [number, Buffer[]][]): Buffer {
  const parts: Buffer[] = [Buffer.from(type, "latin1"), u32(1), u32(sections.length)];
  for (const [id, chunks] of sections) {
    const size = chunks.reduce((a, c) => a + c.length, 0);
    const h = Buffer.alloc(12);
    h.writeUInt32LE(id, 0);
    h.writeBigUInt64LE(BigInt(size), 4);
    parts.push(h);
    for (const c of chunks) parts.push(c);
  }
  return Buffer.concat(parts);
}

export function domainPowerOf(r1cs: Pick<R1cs, "nConstraints" | "nPubInputs" | "nOutputs">): number {
  // snarkjs: cirPower = log2(nConstraints + nPublic) + 1 (floor log2)
  const m = r1cs.nConstraints + r1cs.nPubInputs + r1cs.nOutputs;
  return Math.floor(Math.log2(m)) + 1;
}

/**
 * With `invDelta` (the inverse of the phase-2 delta a beacon will apply), sections C (8) and H (9) are left empty and
 * returned already divided by delta, for splicing into the beacon's output: snarkjs's beacon then only rewrites the
 * header and the contribution record instead of re-multiplying every C and H point (its slowest step).
 */
export async function writeInitialZkey(opts: {
  r1csPath: string;
  zkeyPath: string;
  toxic: Toxic;
  pool: FixedBasePool;
  onProgress?: Progress;
  invDelta?: bigint;
}): Promise<ZkeyInfo & { c?: Buffer; h?: Buffer }> {
  const { toxic, pool } = opts;
  const progress = opts.onProgress ?? (() => {});
  const r1cs = readR1cs(opts.r1csPath);
  if (r1cs.prime !== R) throw new Error("the r1cs is not over the bn128 scalar field");
  const nPublic = r1cs.nOutputs + r1cs.nPubInputs;
  const power = domainPowerOf(r1cs);
  const n = 1 << power;
  const { nVars, nConstraints } = r1cs;

  // Column polynomials at tau, in the Lagrange basis of the circuit's domain.
  const L = lagrangeAt(toxic.tau, power, nConstraints + nPublic + 1);
  const a = new Array<bigint>(nVars).fill(0n);
  const b = new Array<bigint>(nVars).fill(0n);
  const c = new Array<bigint>(nVars).fill(0n);
  const R2 = mod((1n << 256n) % R) ** 2n % R;
  let nCoefs = nPublic + 1;
  for (const [A, B] of r1cs.constraints) nCoefs += A.signals.length + B.signals.length;
  const coefs = Buffer.alloc(4 + 44 * nCoefs);
  coefs.writeUInt32LE(nCoefs, 0);
  let at = 4;
  const coefEntry = (matrix: number, constraint: number, signal: number, value: bigint) => {
    coefs.writeUInt32LE(matrix, at);
    coefs.writeUInt32LE(constraint, at + 4);
    coefs.writeUInt32LE(signal, at + 8);
    le((value * R2) % R).copy(coefs, at + 12);
    at += 44;
  };
  for (let k = 0; k < nConstraints; k++) {
    const [A, B, C] = r1cs.constraints[k]!;
    const l = L[k]!;
    for (let i = 0; i < A.signals.length; i++) {
      a[A.signals[i]!] += (A.coefs[i]! * l) % R;
      coefEntry(0, k, A.signals[i]!, A.coefs[i]!);
    }
    for (let i = 0; i < B.signals.length; i++) {
      b[B.signals[i]!] += (B.coefs[i]! * l) % R;
      coefEntry(1, k, B.signals[i]!, B.coefs[i]!);
    }
    for (let i = 0; i < C.signals.length; i++) c[C.signals[i]!] += (C.coefs[i]! * l) % R;
  }
  // snarkjs adds one constraint per public signal (and ONE) so the IC points are independent.
  for (let s = 0; s <= nPublic; s++) {
    a[s] += L[nConstraints + s]!;
    coefEntry(0, nConstraints + s, s, 1n);
  }
  for (let s = 0; s < nVars; s++) {
    a[s] = mod(a[s]!);
    b[s] = mod(b[s]!);
    c[s] = mod(c[s]!);
  }
  const k = a.map((ai, s) => mod(toxic.beta * ai + toxic.alpha * b[s]! + c[s]!)); // gamma = delta = 1 before phase 2
  // H: odd points of the Lagrange basis of the doubled domain (snarkjs's prover evaluates on that coset).
  const H = lagrangeAt(toxic.tau, power + 1, n, 2, 1);
  // The circuit hash covers tau^i (tau^n - 1), i < n - 1, instead of H.
  const zn = mod(pow(toxic.tau, BigInt(n)) - 1n);
  const hashH: bigint[] = new Array(n - 1);
  for (let i = 0, t = 1n; i < n - 1; i++, t = (t * toxic.tau) % R) hashH[i] = (t * zn) % R;

  const inv = opts.invDelta;
  const total = 3 + 2 + (nPublic + 1) + n + (n - 1) + (nVars - nPublic - 1) * (inv ? 2 : 1) + 3 * nVars;
  let done = 0;
  const mul = async (group: "G1" | "G2", scalars: bigint[], wantU = true) => {
    const base = done;
    const r = await pool.multiply(group, scalars, { wantU, onProgress: (d) => progress("points", base + d, total) });
    done += scalars.length;
    return r;
  };
  const g1 = await mul("G1", [toxic.alpha, toxic.beta, 1n]);
  const g2 = await mul("G2", [toxic.beta, 1n]);
  const ic = await mul("G1", k.slice(0, nPublic + 1));
  const h = await mul("G1", inv ? H.map((x) => (x * inv) % R) : H, false);
  const hh = await mul("G1", hashH);
  const cc = await mul("G1", k.slice(nPublic + 1));
  const cDiv = inv
    ? await mul(
        "G1",
        k.slice(nPublic + 1).map((x) => (x * inv) % R),
        false,
      )
    : undefined;
  const aa = await mul("G1", a);
  const b1 = await mul("G1", b);
  const b2 = await mul("G2", b);

  const sl = (x: Uint8Array, i: number, size: number) => Buffer.from(x.buffer, x.byteOffset + i * size, size);
  const hasher = createHash("blake2b512");
  hasher
    .update(sl(g1.u!, 0, 64))
    .update(sl(g1.u!, 1, 64))
    .update(sl(g2.u!, 0, 128));
  hasher
    .update(sl(g2.u!, 1, 128))
    .update(sl(g1.u!, 2, 64))
    .update(sl(g2.u!, 1, 128)); // gamma2, delta1, delta2
  hasher.update(u32(nPublic + 1, true)).update(ic.u!);
  hasher.update(u32(n - 1, true)).update(hh.u!);
  hasher.update(u32(nVars - nPublic - 1, true)).update(cc.u!);
  hasher.update(u32(nVars, true)).update(aa.u!);
  hasher.update(u32(nVars, true)).update(b1.u!);
  hasher.update(u32(nVars, true)).update(b2.u!);
  const csHash = hasher.digest();

  const header = [u32(32), le(Q), u32(32), le(R), u32(nVars), u32(nPublic), u32(n)];
  const gens = [
    sl(g1.lem, 0, 64),
    sl(g1.lem, 1, 64),
    sl(g2.lem, 0, 128),
    sl(g2.lem, 1, 128),
    sl(g1.lem, 2, 64),
    sl(g2.lem, 1, 128),
  ];
  const file = binFile("zkey", [
    [1, [u32(1)]],
    [2, [...header, ...gens]],
    [4, [coefs]],
    [3, [Buffer.from(ic.lem)]],
    [9, inv ? [] : [Buffer.from(h.lem)]],
    [8, inv ? [] : [Buffer.from(cc.lem)]],
    [5, [Buffer.from(aa.lem)]],
    [6, [Buffer.from(b1.lem)]],
    [7, [Buffer.from(b2.lem)]],
    [10, [csHash, u32(0)]],
  ]);
  writeFileSync(opts.zkeyPath, file);
  return {
    nConstraints,
    nVars,
    nPublic,
    domainPower: power,
    ...(cDiv ? { c: Buffer.from(cDiv.lem), h: Buffer.from(h.lem) } : {}),
  };
}
