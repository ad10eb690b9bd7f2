/**
 * Applets that no built-in reducer (sum, count_above, max over values[0]) could express, compiled and checked
 * against the runtime (differential, fast-check, K = 4): energy in a time-of-day window, humidity (values[1]) in a
 * band around the param with a bonus, last-minus-first of a cumulative meter. peak-energy and meter-delta are example
 * applets (applets/), proven and paid on the devnet; humidity-band is a compiler fixture (fixtures/assembly/).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { buildCircom } from "./circom-run.ts";
import { caseArb, circuitClaim, fixture, runtimeClaim, type Case } from "./differential.ts";
import { compileApplet } from "./index.ts";

const HOUR = 3_600_000n;
/** Readings up to two hours apart from 15:00 on some day, so that some fall in the 17:00–21:00 peak and some not. */
const hourly = (K: number): fc.Arbitrary<Case> =>
  fc
    .tuple(
      caseArb(K),
      fc.array(fc.bigInt({ min: 0n, max: 2n * HOUR }), { minLength: K, maxLength: K }),
      fc.bigInt({ min: 0n, max: 1n << 20n }),
    )
    .map(([c, gaps, day]) => {
      let t = day * 24n * HOUR + 15n * HOUR;
      const ts = c.ts.map((_, i) => (t += gaps[i]!));
      const start = ts[0]! - (c.length & 1n ? 0n : HOUR);
      return { ...c, ts, start, length: ts[ts.length - 1]! - start + 1n + (c.length % HOUR) };
    });

const clampI64 = (v: bigint) => (v > (1n << 63n) - 1n ? (1n << 63n) - 1n : v < -(1n << 63n) ? -(1n << 63n) : v);

/** Humidity near the target, so that the band's edges and the all-in-band bonus are reached. */
const nearTarget = (K: number): fc.Arbitrary<Case> =>
  fc
    .tuple(caseArb(K, true), fc.array(fc.integer({ min: -130, max: 130 }), { minLength: K, maxLength: K }))
    .map(([c, offs]) => ({
      ...c,
      values: c.values.map((v, i) => [v[0]!, clampI64(c.param! + BigInt(offs[i]!)), v[2]!, v[3]!]),
    }));

const EXAMPLES: { name: string; hasParam: boolean; arb: (K: number) => fc.Arbitrary<Case> }[] = [
  { name: "peak-energy", hasParam: false, arb: (K) => fc.oneof(hourly(K), caseArb(K)) },
  { name: "humidity-band", hasParam: true, arb: (K) => fc.oneof(nearTarget(K), caseArb(K, true)) },
  { name: "meter-delta", hasParam: false, arb: (K) => caseArb(K) },
];

describe("example applets beyond the built-in reducers", { timeout: 300_000 }, () => {
  for (const ex of EXAMPLES) {
    it(`${ex.name}: the circuit's claim is the runtime's (K = 4)`, async () => {
      const K = 4;
      const wasm = await fixture(ex.name);
      const build = await buildCircom(compileApplet({ wasm, k: K, hasParam: ex.hasParam }).claimOnlyMain);
      const outputs = new Set<bigint | undefined>();
      await fc.assert(
        fc.asyncProperty(ex.arb(K), async (c) => {
          const want = await runtimeClaim(wasm, c);
          outputs.add(want);
          expect(await circuitClaim(build, c, K)).toBe(want);
        }),
        { numRuns: 50, seed: 18 },
      );
      // The cases reached more than one outcome (not only "no claim" or one constant).
      expect(outputs.size).toBeGreaterThan(3);
    });
  }
});
