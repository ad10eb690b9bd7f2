import { describe, expect, it } from "vitest";
import { closableEpochs } from "./epochs.ts";
import { backoffMs } from "./backoff.ts";

describe("closableEpochs", () => {
  it("closes only windows that ended at least grace ago, aligned to the length", () => {
    expect(closableEpochs(10_500, 30_999, 10_000, 1000)).toEqual([{ startMs: 10_000n, lengthMs: 10_000n }]);
    expect(closableEpochs(10_000, 31_000, 10_000, 1000).map((w) => w.startMs)).toEqual([10_000n, 20_000n]);
    expect(closableEpochs(10_000, 20_999, 10_000, 1000)).toEqual([]);
  });
  it("closes the applet's schedule: epochs from genesis on, aligned to it, none before it", () => {
    // genesis 5,000 with 10 s epochs: 5,000, 15,000, … (a cursor before genesis starts at genesis)
    expect(closableEpochs(0, 26_000, 10_000, 1000, 100, 5_000).map((w) => w.startMs)).toEqual([5_000n, 15_000n]);
    expect(closableEpochs(17_000, 36_000, 10_000, 1000, 100, 5_000).map((w) => w.startMs)).toEqual([15_000n, 25_000n]);
    expect(closableEpochs(0, 14_999, 10_000, 0, 100, 5_000)).toEqual([]);
  });
  it("bounds the catch-up after a long pause", () => {
    expect(closableEpochs(0, 10_000_000, 1000, 0, 5)).toHaveLength(5);
  });
});

describe("backoffMs", () => {
  it("grows exponentially and is capped", () => {
    const mid = () => 0.5;
    expect(backoffMs(1, { random: mid, baseMs: 100 })).toBe(75);
    expect(backoffMs(3, { random: mid, baseMs: 100 })).toBe(300);
    expect(backoffMs(30, { random: () => 1, baseMs: 100, maxMs: 1000 })).toBe(1000);
  });
});
