import { createHash } from "node:crypto";

/** sha256(tag ‖ bytes) as lowercase hex without 0x: every runtime digest is domain-tagged (see abi.ts DOMAIN). */
export function taggedDigest(tag: string, ...parts: Uint8Array[]): string {
  const h = createHash("sha256").update(tag);
  for (const p of parts) h.update(p);
  return h.digest("hex");
}

/** imageId: plain sha256 of the original (unmetered) Wasm bytes, hex without 0x (the contracts' bytes32). */
export function imageIdOf(wasm: Uint8Array): string {
  return createHash("sha256").update(wasm).digest("hex");
}

export function toHex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("hex");
}

export function fromHex(s: string): Uint8Array {
  const h = s.replace(/^0x/, "");
  if (h.length % 2 || !/^[0-9a-fA-F]*$/.test(h)) throw new TypeError(`not hex: ${JSON.stringify(s.slice(0, 40))}`);
  return new Uint8Array(Buffer.from(h, "hex"));
}

/** A field element / deviceId as 32 little-endian bytes (in four 64-bit limbs: 8× fewer bigint operations). */
export function u256ToLE(x: bigint): Uint8Array {
  const out = new Uint8Array(32);
  const dv = new DataView(out.buffer);
  let v = BigInt.asUintN(256, x);
  for (let i = 0; i < 32; i += 8) {
    dv.setBigUint64(i, BigInt.asUintN(64, v), true);
    v >>= 64n;
  }
  return out;
}

export function leToU256(b: Uint8Array): bigint {
  let v = 0n;
  for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
  return v;
}
