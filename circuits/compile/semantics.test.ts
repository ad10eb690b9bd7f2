/**
 * Exact Wasm semantics of the data-dependent instructions the compiler expresses bit by bit, against the runtime
 * (differential, fast-check, K = 4): signed division and remainder with both traps (division by zero, INT_MIN / -1),
 * clz/ctz/popcnt, shifts and rotates by an amount read from the readings, in i32 and i64.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compileApplet as compileAs } from "../../toolchain/index.ts";
import { buildCircom } from "./circom-run.ts";
import { caseArb, circuitClaim, runtimeClaim, type Case } from "./differential.ts";
import { compileApplet } from "./index.ts";

const SDK = `import { claim, device, readingValue } from "../../sdk/assembly/index";`;
const I64_MIN = -(1n << 63n);
const I32_MIN = -(1n << 31n);

/** Values where signed division and shifts have their edge cases: the extremes, -1, 0, small amounts. */
const edges = fc.oneof(
  fc.constantFrom(I64_MIN, I64_MIN + 1n, (1n << 63n) - 1n, -1n, 0n, 1n, 2n, I32_MIN, -(1n << 32n) + I32_MIN),
  fc.bigInt({ min: -70n, max: 70n }),
  fc.bigInt({ min: I64_MIN, max: (1n << 63n) - 1n }),
);
const edgeCase = (K: number): fc.Arbitrary<Case> =>
  fc
    .tuple(caseArb(K), fc.array(fc.array(edges, { minLength: 4, maxLength: 4 }), { minLength: K, maxLength: K }))
    .map(([c, vs]) => ({ ...c, values: c.values.map((_, i) => vs[i]!) }));

const APPLETS: Record<string, string> = {
  // i64 and i32 div_s / rem_s by data: a zero divisor or INT_MIN / -1 traps, so that epoch has no claim.
  signedDivision: `export function mfi_main(): void {
  const d = device(0);
  let acc: i64 = 0;
  for (let r = d.firstReading; r < d.firstReading + d.readingCount; r++) {
    const a = readingValue(r, 0); const b = readingValue(r, 1);
    acc += a / b + (readingValue(r, 2) % b);
    acc ^= <i64>(<i32>readingValue(r, 3) / <i32>(b | 1)) + <i64>(<i32>a % <i32>(b | 1));
  }
  claim(d, <u64>acc);
}`,
  // rem_s alone: INT_MIN % -1 is 0, not a trap.
  signedRemainder: `export function mfi_main(): void {
  const d = device(0);
  let acc: i64 = 0;
  for (let r = d.firstReading; r < d.firstReading + d.readingCount; r++)
    acc = acc * 31 + readingValue(r, 0) % (readingValue(r, 1) | 1);
  claim(d, <u64>acc);
}`,
  bitCounts: `export function mfi_main(): void {
  const d = device(0);
  let acc: u64 = 0;
  for (let r = d.firstReading; r < d.firstReading + d.readingCount; r++) {
    const v = readingValue(r, 0); const u = <u32>readingValue(r, 1);
    acc = acc * 1000 + <u64>clz<i64>(v) * 100 + <u64>ctz<i64>(v) * 10 + <u64>popcnt<i64>(readingValue(r, 2));
    acc += <u64>(clz<u32>(u) + ctz<u32>(u) * 33 + popcnt<u32>(u) * 1089);
  }
  claim(d, acc);
}`,
  shiftsByData: `export function mfi_main(): void {
  const d = device(0);
  let acc: i64 = 0;
  for (let r = d.firstReading; r < d.firstReading + d.readingCount; r++) {
    const v = readingValue(r, 0); const k = readingValue(r, 1);
    acc = acc * 3 + (v << k) + (v >> k) - <i64>(<u64>v >> <u64>k) + rotl<i64>(v, k) * 5 + rotr<i64>(v, k);
    const x = <i32>readingValue(r, 2); const j = <i32>k;
    acc = acc * 7 + <i64>((x << j) + (x >> j) - <i32>(<u32>x >> <u32>j) + rotl<i32>(x, j) * 5 + rotr<i32>(x, j));
  }
  claim(d, <u64>acc);
}`,
};

describe("data-dependent instructions: the circuit's claim is the runtime's", { timeout: 600_000 }, () => {
  for (const [name, source] of Object.entries(APPLETS)) {
    it(`${name} (K = 4), edge values and traps included`, async () => {
      const K = 4;
      const wasm = (await compileAs({ source: `${SDK}\n${source}` })).wasm;
      const build = await buildCircom(compileApplet({ wasm, k: K }).claimOnlyMain);
      let claimed = 0;
      let trapped = 0;
      await fc.assert(
        fc.asyncProperty(fc.oneof(edgeCase(K), caseArb(K)), async (c) => {
          const want = await runtimeClaim(wasm, c);
          if (want === undefined) trapped++;
          else claimed++;
          expect(await circuitClaim(build, c, K)).toBe(want);
        }),
        { numRuns: 50, seed: 18 },
      );
      expect(claimed).toBeGreaterThan(5);
      if (name === "signedDivision") expect(trapped).toBeGreaterThan(3);
    });
  }

  it("INT_MIN / -1 traps (no witness) while INT_MIN % -1 is 0", async () => {
    const K = 1;
    const base: Case = { deviceId: 9n, seq0: 1n, start: 0n, length: 10n, ts: [5n], values: [[I64_MIN, -1n, 3n, 0n]] };
    const div = (await compileAs({ source: `${SDK}\n${APPLETS.signedDivision}` })).wasm;
    const rem = (await compileAs({ source: `${SDK}\n${APPLETS.signedRemainder}` })).wasm;
    expect(await runtimeClaim(div, base)).toBeUndefined();
    expect(await circuitClaim(await buildCircom(compileApplet({ wasm: div, k: K }).claimOnlyMain), base, K)).toBe(
      undefined,
    );
    expect(await runtimeClaim(rem, base)).toBe(0n);
    expect(await circuitClaim(await buildCircom(compileApplet({ wasm: rem, k: K }).claimOnlyMain), base, K)).toBe(0n);
  });
});
