import * as crypto from "node:crypto";
import { parseImageId, type ImageId } from "../core/index.ts";

// One-shot hashing (Node ≥ 20.12) skips the Hash object, half the cost of a small digest; older Nodes stream.
const oneShot = (crypto as { hash?: (alg: string, data: Uint8Array, enc: "hex") => string }).hash;
const ONE_SHOT_MAX = 4096;

/** sha256(tag ‖ bytes) as lowercase hex without 0x: every runtime digest is domain-tagged (see abi.ts DOMAIN). */
export function taggedDigest(tag: string, ...parts: Uint8Array[]): string {
  if (oneShot) {
    const t = Buffer.from(tag);
    let n = t.length;
    for (const p of parts) n += p.length;
    if (n <= ONE_SHOT_MAX) return oneShot("sha256", Buffer.concat([t, ...parts], n), "hex");
  }
  const h = crypto.createHash("sha256").update(tag);
  for (const p of parts) h.update(p);
  return h.digest("hex");
}

/** imageId: plain sha256 of the original (unmetered) Wasm bytes (the contracts' bytes32). */
export function imageIdOf(wasm: Uint8Array): ImageId {
  return parseImageId(crypto.createHash("sha256").update(wasm).digest("hex"));
}

export function toHex(b: Uint8Array): string {
  // A small typed array lives on V8's heap and reading its .buffer moves it off (~2 µs): copy those instead.
  return (b.byteLength <= 64 ? Buffer.from(b) : Buffer.from(b.buffer, b.byteOffset, b.byteLength)).toString("hex");
}

export function fromHex(s: string): Uint8Array {
  const h = s.replace(/^0x/, "");
  if (h.length % 2 || !/^[0-9a-fA-F]*$/.test(h)) throw new TypeError(`not hex: ${JSON.stringify(s.slice(0, 40))}`);
  return new Uint8Array(Buffer.from(h, "hex"));
}

/** A field element / deviceId as 32 little-endian bytes (in four 64-bit limbs: 8× fewer bigint operations). */
export function u256ToLE(x: bigint): Uint8Array {
  const out = new Uint8Array(32);
  u256IntoLE(x, out, 0);
  return out;
}

const limbs = new BigUint64Array(4);
const limbBytes = new Uint8Array(limbs.buffer);
const limb0Bytes = new Uint8Array(limbs.buffer, 0, 8);
/** Typed arrays store in platform byte order; the encodings here are little-endian. */
export const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * x mod 2^256 as 32 little-endian bytes at out[at]. A BigUint64Array store keeps its value mod 2^64 and `>>` on a
 * bigint is two's-complement, so four stores are the four limbs (a tenth of the cost of DataView + asUintN).
 */
export function u256IntoLE(x: bigint, out: Uint8Array, at: number): void {
  limbs[0] = x;
  limbs[1] = x >> 64n;
  limbs[2] = x >> 128n;
  limbs[3] = x >> 192n;
  if (!LITTLE_ENDIAN) {
    const dv = new DataView(limbs.buffer);
    for (let i = 0; i < 4; i++) dv.setBigUint64(8 * i, limbs[i]!, true);
  }
  out.set(limbBytes, at);
}

/** x mod 2^64 as 8 little-endian bytes at out[at]. */
export function u64IntoLE(x: bigint, out: Uint8Array, at: number): void {
  limbs[0] = x;
  if (!LITTLE_ENDIAN) new DataView(limbs.buffer).setBigUint64(0, limbs[0]!, true);
  out.set(limb0Bytes, at);
}

export function leToU256(b: Uint8Array): bigint {
  let v = 0n;
  for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
  return v;
}
