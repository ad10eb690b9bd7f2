/**
 * The JSON wire format shared by the SDK and the gateway: bigints as decimal strings, signatures {R8x, R8y, S},
 * public keys {x, y}. Encoding here and decoding in the gateway's zod schemas must agree.
 */
import type { Reading } from "./chain.ts";
import type { PublicKey, Signature } from "./eddsa-api.ts";

/** A reading with its own hash (h_seq) and the device's signature over it (null for unsigned middle-of-batch links). */
export interface SignedReading extends Reading {
  hash: bigint;
  signature: Signature | null;
}

export interface WireSignature {
  R8x: string;
  R8y: string;
  S: string;
}

export interface WireReading {
  deviceId: string;
  seq: string;
  ts: string;
  values: string[];
  prev: string;
  signature: WireSignature | null;
}

/** What the gateway answers for an accepted reading (the same ack again for an exact resend). */
export interface IngestAck {
  deviceId: string;
  seq: string;
  hash: string;
  /** Unix ms at which the gateway first made the reading durable. */
  receivedAt: number;
}

export interface WireRegistration {
  publicKey: { x: string; y: string };
  owner: string;
  chainId: string;
  registry: string;
  signature: WireSignature;
}

export const encodeSignature = (s: Signature): WireSignature => ({
  R8x: s.R8x.toString(),
  R8y: s.R8y.toString(),
  S: s.S.toString(),
});
export const decodeSignature = (s: WireSignature): Signature => ({
  R8x: BigInt(s.R8x),
  R8y: BigInt(s.R8y),
  S: BigInt(s.S),
});
export const encodePublicKey = (k: PublicKey) => ({ x: k.x.toString(), y: k.y.toString() });

export function encodeReading(r: Reading & { signature?: Signature | null }): WireReading {
  return {
    deviceId: r.deviceId.toString(),
    seq: r.seq.toString(),
    ts: r.ts.toString(),
    values: r.values.map(String),
    prev: r.prev.toString(),
    signature: r.signature ? encodeSignature(r.signature) : null,
  };
}

export function decodeReading(w: WireReading): Reading & { signature: Signature | null } {
  return {
    deviceId: BigInt(w.deviceId),
    seq: BigInt(w.seq),
    ts: BigInt(w.ts),
    values: w.values.map((v) => BigInt(v)),
    prev: BigInt(w.prev),
    signature: w.signature ? decodeSignature(w.signature) : null,
  };
}
