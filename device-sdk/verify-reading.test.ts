/** verifyReading on real EdDSA-Poseidon signatures (the circomlibjs reference backend). */
import { beforeAll, describe, expect, it } from "vitest";
import { randomBytes } from "node:crypto";
import { buildJsBackend } from "./eddsa-js.ts";
import { deviceIdOf, genesisHash, hashReading, padValues } from "./chain.ts";
import type { EddsaBackend, PublicKey } from "./eddsa-api.ts";
import { ReadingVerificationError, verifyReading, type ServedReading } from "./verify-reading.ts";

let backend: EddsaBackend;
let key: Uint8Array, pub: PublicKey;

function chain(n: number, signedAt: number[]): ServedReading[] {
  const deviceId = deviceIdOf(pub);
  let prev = genesisHash(deviceId);
  return Array.from({ length: n }, (_, i) => {
    const r = { deviceId, seq: BigInt(i + 1), ts: 1_000n * BigInt(i), values: padValues([BigInt(i * 7)]), prev };
    prev = hashReading(r);
    return { ...r, signature: signedAt.includes(i) ? backend.sign(key, prev) : null };
  });
}

function reason(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ReadingVerificationError);
    return (e as ReadingVerificationError).reason;
  }
  return "ok";
}

beforeAll(async () => {
  backend = await buildJsBackend();
  key = randomBytes(32);
  pub = backend.publicKey(key);
});

describe("verifyReading", () => {
  it("verifies a range of unsigned links ending in a signed reading", () => {
    const rs = chain(6, [2, 5]);
    expect(verifyReading(backend, pub, rs.slice(1)).verified).toBe(5);
    expect(verifyReading(backend, pub, rs.slice(0, 3)).verified).toBe(3);
  });

  it("refuses a range that ends unsigned, a tampered value, a dropped reading, a forged signature, another key", () => {
    const rs = chain(6, [5]);
    expect(reason(() => verifyReading(backend, pub, rs.slice(0, 4)))).toBe("Unsigned");
    const tampered = rs.map((r, i) => (i === 2 ? { ...r, values: padValues([999n]) } : r));
    expect(reason(() => verifyReading(backend, pub, tampered))).toBe("BrokenChain");
    expect(reason(() => verifyReading(backend, pub, [...rs.slice(0, 2), ...rs.slice(3)]))).toBe("BrokenChain");
    const lastTampered = rs.map((r, i) => (i === 5 ? { ...r, ts: r.ts + 1n } : r));
    expect(reason(() => verifyReading(backend, pub, lastTampered))).toBe("BadSignature");
    const otherPub = backend.publicKey(randomBytes(32));
    expect(reason(() => verifyReading(backend, otherPub, rs))).toBe("KeyMismatch");
    expect(reason(() => verifyReading(backend, pub, []))).toBe("EmptyRange");
  });
});
