/**
 * Reads circom's .r1cs binary (iden3 binfile "r1cs" v1): the header and the constraints, as plain bigints.
 * Coefficients are stored little-endian in normal (not Montgomery) form.
 */
import { readFileSync } from "node:fs";

export interface LinearCombination {
  signals: Uint32Array;
  coefs: bigint[];
}
export interface R1cs {
  prime: bigint;
  nVars: number;
  nOutputs: number;
  nPubInputs: number;
  nPrvInputs: number;
  nConstraints: number;
  constraints: [LinearCombination, LinearCombination, LinearCombination][];
}

export function readLE(buf: Uint8Array, off: number, n: number): bigint {
  let x = 0n;
  for (let i = n - 1; i >= 0; i--) x = (x << 8n) | BigInt(buf[off + i]!);
  return x;
}

export function readR1cs(path: string): R1cs {
  const buf = readFileSync(path);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (buf.subarray(0, 4).toString("latin1") !== "r1cs") throw new Error(`${path} is not an r1cs file`);
  const nSections = dv.getUint32(8, true);
  const sections = new Map<number, { p: number; size: number }>();
  let p = 12;
  for (let i = 0; i < nSections; i++) {
    const id = dv.getUint32(p, true);
    const size = Number(dv.getBigUint64(p + 4, true));
    sections.set(id, { p: p + 12, size });
    p += 12 + size;
  }
  const h = sections.get(1)!.p;
  const n8 = dv.getUint32(h, true);
  const prime = readLE(buf, h + 4, n8);
  let q = h + 4 + n8;
  const nVars = dv.getUint32(q, true);
  const nOutputs = dv.getUint32(q + 4, true);
  const nPubInputs = dv.getUint32(q + 8, true);
  const nPrvInputs = dv.getUint32(q + 12, true);
  const nConstraints = dv.getUint32(q + 24, true);
  q = sections.get(2)!.p;
  const constraints: R1cs["constraints"] = [];
  const readLc = (): LinearCombination => {
    const n = dv.getUint32(q, true);
    q += 4;
    const signals = new Uint32Array(n);
    const coefs: bigint[] = new Array(n);
    for (let i = 0; i < n; i++) {
      signals[i] = dv.getUint32(q, true);
      coefs[i] = readLE(buf, q + 4, n8);
      q += 4 + n8;
    }
    return { signals, coefs };
  };
  for (let c = 0; c < nConstraints; c++) constraints.push([readLc(), readLc(), readLc()]);
  return { prime, nVars, nOutputs, nPubInputs, nPrvInputs, nConstraints, constraints };
}
