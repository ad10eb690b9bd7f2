/**
 * Receipt { seal, claim, journalDigest, segment, publicSignals }: the Groth16 proof, the claim it binds, the digest of
 * the applet run that made the claim, and which part of the device's chain the proof covers.
 * JSON with bigints as decimal strings; toCalldata() gives what PayoutVault.claim takes.
 */
import { parseImageId, type ImageId } from "../core/index.ts";
import { AbiCoder } from "ethers";
import { imageIdToField } from "../device-sdk/index.ts";
import { specOf, REDUCERS, type CircuitName, type Reducer } from "./catalog.ts";
import { ReceiptFormatError } from "./errors.ts";

export type G1 = [bigint, bigint];
export type G2 = [[bigint, bigint], [bigint, bigint]];

export interface Seal {
  protocol: "groth16";
  curve: "bn128";
  /** A built-in circuit (`readings_sum_16`), or a compiled applet's (`applet_<imageId prefix>_k<K>`, with `key`). */
  circuit: CircuitName | CompiledCircuitName;
  /** Slots of the circuit (its K); the vault routes the proof to that K's verifier. */
  k: number;
  /**
   * Compiled applets: the circuit's content hash (sha256 of its generated main, which pins the imageId and K, with the
   * compiler, circom and setup versions). `mfi verify --applet` recompiles the Wasm and must get the same key.
   */
  key?: string;
  a: G1;
  /** snarkjs order (c0, c1) per coordinate; toCalldata swaps for Solidity. */
  b: G2;
  c: G1;
}

export interface Claim {
  /** sha256 of the applet's Wasm (the public signal is this reduced mod r). */
  imageId: ImageId;
  deviceId: bigint;
  /** packEpoch({startMs, lengthMs}). */
  epoch: bigint;
  output: bigint;
  /** Receipts of the built-in reducer circuits only; a compiled applet's claim is what its own Wasm computes. */
  reducer?: Reducer;
  param?: bigint;
  /** A stateful applet's state commitments before and after the run (PayoutVault.claimStateful). */
  stateIn?: bigint;
  stateOut?: bigint;
}

export type CompiledCircuitName = `applet_${string}_k${number}`;
const COMPILED_NAME = /^applet_([0-9a-f]{16})_k([1-9][0-9]*)$/;
/** The K of a compiled applet's circuit name, or undefined for any other name. */
export function compiledCircuitK(name: string): number | undefined {
  const m = COMPILED_NAME.exec(name);
  return m ? Number(m[2]) : undefined;
}

/** The part of the device's chain a proof covers. */
export interface Segment {
  firstSeq: bigint;
  /** The signed reading that closes the segment. */
  signedSeq: bigint;
  insideCount: number;
}

export interface Receipt {
  seal: Seal;
  claim: Claim;
  /** The journal digest of the applet run that made the claim (the worker always passes it; `mfi prove` has no run). */
  journalDigest?: string;
  segment: Segment;
  publicSignals: bigint[];
}

/** The public signals in the circuit's (and the vault's) order. */
export function claimPublicSignals(c: Claim): bigint[] {
  return [
    imageIdToField(c.imageId),
    c.deviceId,
    c.epoch,
    c.output,
    ...(c.param !== undefined ? [c.param] : []),
    ...(c.stateIn !== undefined ? [c.stateIn, c.stateOut!] : []),
  ];
}

const big = (v: unknown, what: string): bigint => {
  if (typeof v === "bigint") return v;
  if (typeof v === "string" && /^(0|[1-9][0-9]*)$/.test(v)) return BigInt(v);
  throw new ReceiptFormatError(
    `receipt field ${what} must be a non-negative decimal string, got ${JSON.stringify(v)?.slice(0, 80)}`,
  );
};

/** The four receipt fields only (a ProveResult's stats stay out), bigints as decimal strings. */
export function receiptToJSON(r: Receipt): string {
  const { seal, claim, journalDigest, segment, publicSignals } = r;
  return JSON.stringify(
    { seal, claim, ...(journalDigest ? { journalDigest } : {}), segment, publicSignals },
    (_k, v) => (typeof v === "bigint" ? v.toString() : v),
  );
}

export function receiptFromJSON(json: string | unknown): Receipt {
  let o: any;
  try {
    o = typeof json === "string" ? JSON.parse(json) : json;
  } catch (e) {
    throw new ReceiptFormatError("receipt is not valid JSON", { cause: e });
  }
  // Receipts written before the vocabulary change call the segment `journal` and keep the run's digest inside it.
  const seg = o?.segment ?? o?.journal;
  if (!o || typeof o !== "object" || !o.seal || !o.claim || !seg || !Array.isArray(o.publicSignals))
    throw new ReceiptFormatError("receipt needs seal, claim, segment and publicSignals");
  const journalDigest = o.journalDigest ?? o.journal?.journalDigest;
  if (journalDigest !== undefined && !/^(0x)?[0-9a-f]{64}$/.test(String(journalDigest)))
    throw new ReceiptFormatError("journalDigest must be 64 hex digits");
  const s = o.seal;
  const compiledK = compiledCircuitK(String(s.circuit));
  let spec: { name: CircuitName | CompiledCircuitName; k?: number };
  if (compiledK !== undefined) {
    spec = { name: String(s.circuit) as CompiledCircuitName, k: compiledK };
    if (typeof s.key !== "string" || !/^[0-9a-f]{64}$/.test(s.key))
      throw new ReceiptFormatError("a compiled applet's seal.key must be 64 hex digits (its circuit's content hash)");
  } else {
    try {
      spec = specOf(String(s.circuit));
    } catch (e) {
      throw new ReceiptFormatError(`receipt names an unknown circuit ${JSON.stringify(s.circuit)}`, { cause: e });
    }
  }
  if (s.protocol !== "groth16" || s.curve !== "bn128")
    throw new ReceiptFormatError("only groth16 over bn128 receipts are supported");
  const pair = (p: unknown, w: string): G1 => {
    if (!Array.isArray(p) || p.length !== 2) throw new ReceiptFormatError(`receipt field ${w} must be a pair`);
    return [big(p[0], w), big(p[1], w)];
  };
  const c = o.claim;
  // A receipt always wrote its imageId with 0x; one without it is malformed, not a spelling to accept.
  if (typeof c.imageId !== "string" || !/^0x/i.test(c.imageId))
    throw new ReceiptFormatError("claim.imageId must be 0x + 64 hex digits");
  let imageId: ImageId;
  try {
    imageId = parseImageId(c.imageId);
  } catch (e) {
    throw new ReceiptFormatError("claim.imageId must be 0x + 64 hex digits", { cause: e });
  }
  if (compiledK === undefined ? !REDUCERS.includes(c.reducer) : c.reducer !== undefined)
    throw new ReceiptFormatError(
      compiledK === undefined
        ? `claim.reducer must be one of ${REDUCERS.join(", ")}`
        : "a compiled applet's claim has no reducer: its output is what the applet's Wasm computes",
    );
  const bArr = Array.isArray(s.b) && s.b.length === 2 ? s.b : [];
  const receipt: Receipt = {
    seal: {
      protocol: "groth16",
      curve: "bn128",
      circuit: spec.name,
      k: Number(s.k),
      ...(compiledK !== undefined ? { key: String(s.key) } : {}),
      a: pair(s.a, "seal.a"),
      b: [pair(bArr[0], "seal.b[0]"), pair(bArr[1], "seal.b[1]")],
      c: pair(s.c, "seal.c"),
    },
    claim: {
      imageId,
      deviceId: big(c.deviceId, "claim.deviceId"),
      epoch: big(c.epoch, "claim.epoch"),
      output: big(c.output, "claim.output"),
      ...(compiledK === undefined ? { reducer: c.reducer as Reducer } : {}),
      ...(c.param !== undefined ? { param: big(c.param, "claim.param") } : {}),
      ...(c.stateIn !== undefined
        ? { stateIn: big(c.stateIn, "claim.stateIn"), stateOut: big(c.stateOut, "claim.stateOut") }
        : {}),
    },
    ...(journalDigest !== undefined ? { journalDigest: String(journalDigest) } : {}),
    segment: {
      firstSeq: big(seg.firstSeq, "segment.firstSeq"),
      signedSeq: big(seg.signedSeq, "segment.signedSeq"),
      insideCount: Number(seg.insideCount),
    },
    publicSignals: (o.publicSignals as unknown[]).map((v, i) => big(v, `publicSignals[${i}]`)),
  };
  if (spec.k !== undefined && receipt.seal.k !== spec.k)
    throw new ReceiptFormatError(`seal.k ${receipt.seal.k} does not match circuit ${spec.name}`);
  return receipt;
}

export interface Calldata {
  imageId: string;
  deviceId: bigint;
  epoch: bigint;
  output: bigint;
  /** abi.encode(uint256 k, uint256[2] a, uint256[2][2] b, uint256[2] c), b in the verifier's (c1, c0) order. */
  proof: string;
  /** A stateful applet's state commitments: the claim goes through PayoutVault.claimStateful. */
  stateIn?: bigint;
  stateOut?: bigint;
}

export function toCalldata(r: Receipt): Calldata {
  const { a, b, c, k } = r.seal;
  const proof = AbiCoder.defaultAbiCoder().encode(
    ["uint256", "uint256[2]", "uint256[2][2]", "uint256[2]"],
    [
      BigInt(k),
      a,
      [
        [b[0][1], b[0][0]],
        [b[1][1], b[1][0]],
      ],
      c,
    ],
  );
  const { imageId, deviceId, epoch, output, stateIn, stateOut } = r.claim;
  return { imageId, deviceId, epoch, output, proof, ...(stateIn !== undefined ? { stateIn, stateOut } : {}) };
}
