import { describe, expect, it } from "vitest";
import { deviceIdOf, genesisHash, hashReading, padValues } from "./chain.ts";
import { buildJsBackend, SUBGROUP_ORDER } from "./eddsa-js.ts";
import { SNARK_FIELD } from "./field.ts";
import { addressToBigInt, bytesToHex, generateDeviceKey, hexToBytes, loadDeviceKey } from "./keys.ts";
import { InvalidKeyError } from "./errors.ts";

describe("circomlibjs backend and keys", async () => {
  const b = await buildJsBackend();
  const key = loadDeviceKey(b, "0x" + "07".repeat(32));

  it("signs chain hashes and verifies only the right message, key and canonical signature", () => {
    const r = { deviceId: key.deviceId, seq: 1n, ts: 5n, values: padValues([1n]), prev: genesisHash(key.deviceId) };
    const msg = hashReading(r);
    const sig = b.sign(key.privateKey, msg);
    const other = generateDeviceKey(b);
    expect(b.verify({ msg, sig, publicKey: key.publicKey })).toBe(true);
    expect(
      b.verifyBatch([
        { msg, sig, publicKey: key.publicKey },
        { msg: msg + 1n, sig, publicKey: key.publicKey },
        { msg, sig, publicKey: other.publicKey },
      ]),
    ).toEqual([true, false, false]);
    expect(b.verify({ msg, sig: { ...sig, S: sig.S + SUBGROUP_ORDER }, publicKey: key.publicKey })).toBe(false);
    expect(b.verify({ msg, sig: { ...sig, R8x: sig.R8x + SNARK_FIELD }, publicKey: key.publicKey })).toBe(false);
    expect(b.verify({ msg, sig: { ...sig, R8x: 1n, R8y: 1n }, publicKey: key.publicKey })).toBe(false); // off the curve
    expect(b.verify({ msg, sig, publicKey: { x: -1n, y: 0n } })).toBe(false);
    expect(() => b.sign(key.privateKey, SNARK_FIELD)).toThrow(RangeError);
  });

  it("derives deviceId = Poseidon(Ax, Ay) and round-trips hex keys", () => {
    expect(key.deviceId).toBe(deviceIdOf(key.publicKey));
    expect(key.deviceId).toBe(b.poseidon([key.publicKey.x, key.publicKey.y]));
    expect(loadDeviceKey(b, bytesToHex(key.privateKey)).deviceId).toBe(key.deviceId);
    expect(generateDeviceKey(b).deviceId).not.toBe(key.deviceId);
    expect(() => loadDeviceKey(b, "abc")).toThrow(InvalidKeyError);
    expect(() => loadDeviceKey(b, new Uint8Array(31))).toThrow(/32 bytes/);
    expect(() => hexToBytes("zz")).toThrow(InvalidKeyError);
    expect(addressToBigInt("0x" + "00".repeat(19) + "ff")).toBe(255n);
    expect(() => addressToBigInt("0x12")).toThrow(InvalidKeyError);
  });

  it("computes circomlib Poseidon for 1..16 inputs", () => {
    expect(b.poseidon([key.deviceId])).toBe(genesisHash(key.deviceId));
    expect(() => b.poseidon([])).toThrow(RangeError);
    expect(() => b.poseidon(Array(17).fill(1n))).toThrow(RangeError);
  });
});
