import { describe, expect, it } from "vitest";
import { assertReadingShape, genesisHash, hashReading, padValues, ReadingShapeError, VALUE_SLOTS } from "./chain.ts";
import { packEpoch, unpackEpoch, epochOf, inEpoch } from "./epoch.ts";
import { imageIdToField, SNARK_FIELD } from "./field.ts";
import { InvalidImageIdError } from "../core/index.ts";

describe("signed hash chain", () => {
  it("links readings: changing any field changes the hash", () => {
    const deviceId = 12345n;
    const r1 = { deviceId, seq: 1n, ts: 1_700_000_000_000n, values: padValues([7n]), prev: genesisHash(deviceId) };
    const h1 = hashReading(r1);
    expect(h1).toBeLessThan(SNARK_FIELD);
    for (const tweak of [
      { seq: 2n },
      { ts: r1.ts + 1n },
      { values: padValues([8n]) },
      { prev: h1 },
      { deviceId: 1n },
    ]) {
      expect(hashReading({ ...r1, ...tweak })).not.toBe(h1);
    }
    expect(hashReading({ ...r1 })).toBe(h1);
  });
  it("rejects malformed readings", () => {
    const base = { deviceId: 1n, seq: 1n, ts: 0n, values: padValues([]), prev: 0n };
    expect(() => assertReadingShape({ ...base, values: [1n] })).toThrow(/exactly 4 values/);
    expect(() => assertReadingShape({ ...base, values: padValues([1n << 64n]) })).toThrow(/i64/);
    expect(() => assertReadingShape({ ...base, seq: 0n })).toThrow(/seq/);
    expect(() => assertReadingShape({ ...base, ts: -1n })).toThrow(/ts/);
    expect(() => padValues(Array(VALUE_SLOTS + 1).fill(0n))).toThrow();
  });
});

describe("epochs", () => {
  it("packs and unpacks windows", () => {
    const w = epochOf(1_700_000_123_456n, 60_000n);
    expect(unpackEpoch(packEpoch(w))).toEqual(w);
    expect(inEpoch(1_700_000_123_456n, w)).toBe(true);
    expect(inEpoch(w.startMs + w.lengthMs, w)).toBe(false);
    expect(() => packEpoch({ startMs: 0n, lengthMs: 0n })).toThrow(RangeError);
  });
  it("reduces imageIds into the field", () => {
    expect(imageIdToField("ff".repeat(32))).toBe(BigInt("0x" + "ff".repeat(32)) % SNARK_FIELD);
    expect(() => imageIdToField("abc")).toThrow(InvalidImageIdError);
  });
});

describe("ReadingShapeError", () => {
  it("a reading of the wrong shape is refused before it is hashed or signed", () => {
    const deviceId = 5n;
    const base = { deviceId, seq: 1n, ts: 1000n, values: padValues([1n]), prev: genesisHash(deviceId) };
    expect(() => assertReadingShape(base)).not.toThrow();
    expect(() => assertReadingShape({ ...base, values: [1n, 2n, 3n] })).toThrow(ReadingShapeError);
    expect(() => assertReadingShape({ ...base, seq: 0n })).toThrow(/seq 0 must be in \[1, 2\^48\)/);
    expect(() => assertReadingShape({ ...base, values: padValues([1n << 70n]) })).toThrow(ReadingShapeError);
    expect(() => padValues([1n, 2n, 3n, 4n, 5n])).toThrow(/at most 4 values/);
  });
});
