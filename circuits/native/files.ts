/**
 * The iden3 binary container snarkjs writes (.zkey, .wtns): magic, version, then sections `{id u32, size u64, bytes}`.
 * Only what the Groth16 prover needs is read; sections are views into the file's bytes (no copies).
 */
import { ProverInputError } from "../errors.ts";
import { R as BN254_R } from "../setup/field.ts";

export type Sections = Map<number, Uint8Array>;

export function readSections(bytes: Uint8Array, magic: "zkey" | "wtns"): Sections {
  const bad = (what: string) =>
    new ProverInputError(`not a readable .${magic} file: ${what}`, {
      details: `rebuild it (npm run build:circuits) or pass the ${magic === "zkey" ? "proving key" : "witness"} snarkjs wrote`,
    });
  if (bytes.length < 12) throw bad("shorter than its header");
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (new TextDecoder().decode(bytes.subarray(0, 4)) !== magic) throw bad(`the magic is not "${magic}"`);
  const n = dv.getUint32(8, true);
  const out: Sections = new Map();
  let p = 12;
  for (let i = 0; i < n; i++) {
    if (p + 12 > bytes.length) throw bad(`section ${i} of ${n} is missing`);
    const id = dv.getUint32(p, true);
    const size = Number(dv.getBigUint64(p + 4, true));
    p += 12;
    if (p + size > bytes.length) throw bad(`section ${id} is truncated`);
    if (!out.has(id)) out.set(id, bytes.subarray(p, p + size));
    p += size;
  }
  return out;
}

function leInt(b: Uint8Array): bigint {
  let x = 0n;
  for (let i = b.length - 1; i >= 0; i--) x = (x << 8n) | BigInt(b[i]!);
  return x;
}

export interface Groth16Key {
  nVars: number;
  nPublic: number;
  domainSize: number;
  /** alpha1, beta1, delta1 (G1), beta2, delta2 (G2): Montgomery form, the native prover's header argument. */
  header: Uint8Array;
  coeffs: Uint8Array;
  A: Uint8Array;
  B1: Uint8Array;
  B2: Uint8Array;
  C: Uint8Array;
  H: Uint8Array;
}

function need(s: Sections, id: number, file: string): Uint8Array {
  const b = s.get(id);
  if (!b) throw new ProverInputError(`the ${file} has no section ${id}`, { details: "rebuild it with snarkjs" });
  return b;
}

export function readZkey(bytes: Uint8Array): Groth16Key {
  const s = readSections(bytes, "zkey");
  const h1 = need(s, 1, "zkey");
  if (h1.length < 4 || new DataView(h1.buffer, h1.byteOffset).getUint32(0, true) !== 1)
    throw new ProverInputError("the zkey is not a Groth16 key", { details: "the native prover proves Groth16 only" });
  const h = need(s, 2, "zkey");
  const dv = new DataView(h.buffer, h.byteOffset, h.byteLength);
  if (h.length < 4 + 32 + 4 + 32 + 12 + 64 * 3 + 128 * 3)
    throw new ProverInputError("the zkey's Groth16 header is truncated", { details: "rebuild it with snarkjs" });
  const n8q = dv.getUint32(0, true);
  const n8r = n8q === 32 ? dv.getUint32(36, true) : 0;
  if (n8q !== 32 || n8r !== 32 || leInt(h.subarray(40, 72)) !== BN254_R)
    throw new ProverInputError("the zkey is not over BN254", { details: "the native prover supports bn128 only" });
  let p = 72;
  const nVars = dv.getUint32(p, true);
  const nPublic = dv.getUint32(p + 4, true);
  const domainSize = dv.getUint32(p + 8, true);
  p += 12;
  const alpha1 = h.subarray(p, p + 64);
  const beta1 = h.subarray(p + 64, p + 128);
  const beta2 = h.subarray(p + 128, p + 256);
  const delta1 = h.subarray(p + 384, p + 448);
  const delta2 = h.subarray(p + 448, p + 576);
  const header = new Uint8Array(448);
  header.set(alpha1, 0);
  header.set(beta1, 64);
  header.set(delta1, 128);
  header.set(beta2, 192);
  header.set(delta2, 320);
  return {
    nVars,
    nPublic,
    domainSize,
    header,
    coeffs: need(s, 4, "zkey"),
    A: need(s, 5, "zkey"),
    B1: need(s, 6, "zkey"),
    B2: need(s, 7, "zkey"),
    C: need(s, 8, "zkey"),
    H: need(s, 9, "zkey"),
  };
}

/** The witness values (section 2, 32 bytes each, standard form) after checking the header's field is BN254's r. */
export function readWtns(bytes: Uint8Array): Uint8Array {
  const s = readSections(bytes, "wtns");
  const h = need(s, 1, "witness");
  const dv = new DataView(h.buffer, h.byteOffset, h.byteLength);
  if (h.length < 40 || dv.getUint32(0, true) !== 32 || leInt(h.subarray(4, 36)) !== BN254_R)
    throw new ProverInputError("the witness is not over BN254's scalar field", { details: "compute it with circom" });
  const n = dv.getUint32(36, true);
  const w = need(s, 2, "witness");
  if (w.length !== n * 32)
    throw new ProverInputError(`the witness holds ${w.length / 32} values but its header says ${n}`, {
      details: "compute it again",
    });
  return w;
}

export { leInt };
