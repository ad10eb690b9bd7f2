import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fastBatch, fastReading, firstBatchReading } from "./fast-json.ts";
import { BatchSchema, ReadingSchema } from "./schemas.ts";

const num = fc.oneof(
  fc.integer(),
  fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }).map(String),
  fc.constantFrom("01", "-0", "1.5", "", " 1", "1e3", "-", 1.5, -1, Number.MAX_SAFE_INTEGER + 2, NaN),
);
const anyVal = fc.oneof(
  num,
  fc.constant(null),
  fc.boolean(),
  fc.array(num, { maxLength: 3 }),
  fc.object({ maxDepth: 1 }),
);
const sig = fc.oneof(fc.record({ R8x: num, R8y: num, S: num }, { requiredKeys: [] }), fc.constant(null), anyVal);
const reading = fc.record(
  {
    deviceId: num,
    seq: num,
    ts: num,
    values: fc.oneof(fc.array(num, { maxLength: 6 }), anyVal),
    prev: num,
    signature: sig,
    extra: anyVal,
  },
  { requiredKeys: [] },
);

describe("fast JSON path", () => {
  it("accepts only what ReadingSchema accepts, unchanged", () => {
    fc.assert(
      fc.property(fc.oneof(reading, anyVal), (body) => {
        const parsed = JSON.parse(JSON.stringify(body ?? null)) as unknown;
        const fast = fastReading(parsed);
        if (fast !== undefined) {
          const z = ReadingSchema.safeParse(parsed);
          expect(z.success).toBe(true);
          expect(z.data).toEqual(fast);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it("accepts only batches BatchSchema accepts, unchanged", () => {
    const batch = fc.oneof(
      fc.record({ readings: fc.array(reading, { maxLength: 4 }) }),
      fc.record(
        { readings: fc.array(fc.oneof(reading, anyVal), { maxLength: 3 }), extra: anyVal },
        { requiredKeys: [] },
      ),
      anyVal,
    );
    let accepted = 0;
    fc.assert(
      fc.property(batch, (body) => {
        const parsed = JSON.parse(JSON.stringify(body ?? null)) as unknown;
        const fast = fastBatch(parsed);
        if (fast !== undefined) {
          accepted++;
          const z = BatchSchema.safeParse(parsed);
          expect(z.success).toBe(true);
          expect(z.data!.readings).toEqual(fast);
        }
      }),
      { numRuns: 3000 },
    );
    const r = { seq: "3", ts: 1700000000000, values: ["-5", 7], prev: "12", signature: { R8x: "1", R8y: "2", S: "3" } };
    expect(fastBatch({ readings: [r, { ...r, signature: null }] })).toHaveLength(2);
    expect(fastBatch({ readings: [] })).toBeUndefined();
    expect(fastBatch({ readings: [r, { ...r, seq: "03" }] })).toBeUndefined();
    expect(fastBatch({ readings: [r], more: 1 })).toBeUndefined();
  });

  it("takes a typical signed reading and leaves odd ones to zod", () => {
    const r = { seq: "3", ts: 1700000000000, values: ["-5", 7], prev: "12", signature: { R8x: "1", R8y: "2", S: "3" } };
    expect(fastReading(r)).toBe(r);
    expect(fastReading({ ...r, signature: { R8x: "1", R8y: "2" } })).toBeUndefined();
    expect(fastReading({ ...r, seq: "03" })).toBeUndefined();
    expect(fastReading({ ...r, more: 1 })).toBeUndefined();
    expect(fastReading([r])).toBeUndefined();
  });
});

describe("firstBatchReading", () => {
  it("cuts out the first reading of a body as JSON.stringify writes a batch, braces in strings skipped", () => {
    const a = { seq: "1", ts: "5", values: ["1"], prev: "0", note: "} { \\" };
    const text = JSON.stringify({ readings: [a, { seq: "2" }] });
    expect(firstBatchReading(text)).toEqual(a);
    expect(firstBatchReading(text.slice(0, 40) + "garbage")).toBeUndefined();
    expect(firstBatchReading(`{"readings":[{"seq":"1"}` + "]".repeat(10))).toEqual({ seq: "1" });
  });

  it("reads nothing from a body that opens otherwise", () => {
    for (const t of [
      ' {"readings":[{}]}',
      '{"x":1,"readings":[{}]}',
      '{"readings":[]}',
      "[]",
      "",
      '{"readings":[{"a":',
    ])
      expect(firstBatchReading(t), t).toBeUndefined();
  });
});
