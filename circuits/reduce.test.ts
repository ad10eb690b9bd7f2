/** One reducer definition: the runtime's reference claims and the circuits' reduce agree, and differ only in range. */
import { describe, it, expect } from "vitest";
import { foldReducer } from "../core/index.ts";
import { referenceClaims } from "../toolchain/index.ts";
import { reduce } from "./reduce.ts";
import { ValueRangeError } from "./errors.ts";

const readings = (values: bigint[]) =>
  values.map((v, i) => ({ deviceId: 7n, seq: BigInt(i + 1), ts: BigInt(i), values: [v, 0n, 0n, 0n] }));

describe("reducers: one definition for the runtime and the circuits", () => {
  it("sum, count_above (strict) and max (from 0)", () => {
    expect(foldReducer("sum", undefined, [5n, 7n, 11n])).toBe(23n);
    expect(foldReducer("count_above", 7n, [5n, 7n, 11n])).toBe(1n);
    expect(foldReducer("max", undefined, [5n, 11n, 7n])).toBe(11n);
    expect(foldReducer("max", undefined, [-3n, -1n])).toBe(0n);
  });

  it("referenceClaims and the circuits' reduce give the same output on [0, 2^63)", () => {
    const cases: ["sum" | "count_above" | "max", bigint | undefined][] = [
      ["sum", undefined],
      ["count_above", 6n],
      ["max", undefined],
    ];
    for (const values of [[5n, 7n, 11n], [0n], [(1n << 63n) - 1n, 1n, 3n], [9n, 9n, 2n, 6n]]) {
      for (const [r, p] of cases) expect(referenceClaims(r, p, readings(values)).get(7n)).toBe(reduce(r, values, p));
    }
  });

  it("outside [0, 2^63) the runtime still has an output (an applet's u64) but the circuits refuse with ValueRangeError", () => {
    expect(referenceClaims("max", undefined, readings([-3n, -1n])).get(7n)).toBe(0n);
    expect(referenceClaims("sum", undefined, readings([3n, -8n])).get(7n)).toBe((1n << 64n) - 5n);
    for (const r of ["sum", "max"] as const) expect(() => reduce(r, [3n, -8n])).toThrow(ValueRangeError);
    expect(() => reduce("count_above", [3n, -8n], 0n)).toThrow(ValueRangeError);
  });
});
