/**
 * Device keys: 32 random bytes (circomlibjs derives the scalar with blake512 + pruning), the BabyJubJub public key,
 * and deviceId = Poseidon(Ax, Ay). No Node-only APIs: randomness comes from Web Crypto.
 */
import { deviceIdOf } from "./chain.ts";
import type { EddsaBackend, PublicKey } from "./eddsa-api.ts";
import { InvalidKeyError } from "./errors.ts";

export interface DeviceKey {
  privateKey: Uint8Array;
  publicKey: PublicKey;
  deviceId: bigint;
}

/** Fresh random private key bytes. */
export function generatePrivateKey(): Uint8Array {
  const k = new Uint8Array(32);
  globalThis.crypto.getRandomValues(k);
  return k;
}

/** Derive the public key and deviceId of a private key (hex string or 32 bytes). */
export function loadDeviceKey(backend: EddsaBackend, privateKey: Uint8Array | string): DeviceKey {
  const bytes = typeof privateKey === "string" ? hexToBytes(privateKey) : privateKey;
  if (bytes.length !== 32)
    throw new InvalidKeyError(`a device private key is 32 bytes, got ${bytes.length}`, {
      details: "generate one with generateDeviceKey()",
    });
  const publicKey = backend.publicKey(bytes);
  return { privateKey: bytes, publicKey, deviceId: deviceIdOf(publicKey) };
}

export function generateDeviceKey(backend: EddsaBackend): DeviceKey {
  return loadDeviceKey(backend, generatePrivateKey());
}

export function bytesToHex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

export function hexToBytes(hex: string): Uint8Array {
  const h = hex.trim().replace(/^0x/, "");
  if (!/^([0-9a-fA-F]{2})*$/.test(h))
    throw new InvalidKeyError("a private key in hex has an even number of hex digits", {
      details: `got ${JSON.stringify(hex.slice(0, 12))}…`,
    });
  const out = new Uint8Array(h.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(h.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Parse an EVM address (0x + 40 hex digits) to the bigint the registration message uses. */
export function addressToBigInt(address: string): bigint {
  if (!/^0x[0-9a-fA-F]{40}$/.test(address))
    throw new InvalidKeyError(`not an address: ${JSON.stringify(address)}`, {
      details: "use 0x followed by 40 hex digits",
    });
  return BigInt(address);
}
