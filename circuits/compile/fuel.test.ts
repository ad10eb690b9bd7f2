/**
 * The static fuel bound (fuel.ts): every run the compiled circuit admits uses at most `fuelBound` fuel, and an
 * applet whose bound exceeds the engine's fuel is refused (FuelLimit), so a proof also states that the run finished
 * within its fuel.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DEFAULT_ENGINE_CONFIG } from "../../runtime/index.ts";
import { compileApplet as compileAs, loadBuiltApplet } from "../../toolchain/index.ts";
import { runCase } from "./agreement.ts";
import { caseArb, type Case } from "./differential.ts";
import { NotProvableError, compileApplet } from "./index.ts";

async function fuelUsed(wasm: Uint8Array, c: Case): Promise<number> {
  return (await runCase(wasm, c)).fuelUsed;
}

const LOOPS = `import { claim, device, readingValue } from "../../sdk/assembly/index";
export function mfi_main(): void {
  const d = device(0);
  let acc: i64 = 0;
  for (let r = d.firstReading; r < d.firstReading + d.readingCount; r++)
    for (let i = 0; i < 50; i++) acc = acc * 3 + (readingValue(r, 0) >> <i64>(i & 7));
  claim(d, <u64>acc);
}`;

describe("the static fuel bound", { timeout: 300_000 }, () => {
  for (const [name, hasParam] of [
    ["energy-sum", false],
    ["threshold-alert", true],
  ] as const) {
    it(`${name}: a run's fuelUsed never exceeds the bound (K = 8), and the bound is within the engine's fuel`, async () => {
      const K = 8;
      const wasm = loadBuiltApplet(name);
      const { fuelBound } = compileApplet({ wasm, k: K, hasParam });
      expect(fuelBound).toBeLessThanOrEqual(DEFAULT_ENGINE_CONFIG.fuel);
      await fc.assert(
        fc.asyncProperty(fc.oneof(caseArb(K, hasParam), caseArb(K, hasParam, K)), async (c) => {
          expect(await fuelUsed(wasm, c)).toBeLessThanOrEqual(fuelBound);
        }),
        { numRuns: 40, seed: 18 },
      );
    });
  }

  it("covers nested loops: a loop per reading, K-full", async () => {
    const K = 6;
    const wasm = (await compileAs({ source: LOOPS })).wasm;
    const { fuelBound } = compileApplet({ wasm, k: K });
    await fc.assert(
      fc.asyncProperty(caseArb(K, false, K), async (c) => {
        const used = await fuelUsed(wasm, c);
        expect(used).toBeGreaterThan(50 * K * 5); // the inner loop ran: the bound is not vacuous
        expect(used).toBeLessThanOrEqual(fuelBound);
      }),
      { numRuns: 10, seed: 18 },
    );
  });

  it("an applet whose bound exceeds the engine's fuel is refused (FuelLimit), one within it compiles", async () => {
    const wasm = (await compileAs({ source: LOOPS })).wasm;
    const { fuelBound } = compileApplet({ wasm, k: 6 });
    expect(compileApplet({ wasm, k: 6, fuel: fuelBound }).fuelBound).toBe(fuelBound);
    let err: unknown;
    try {
      compileApplet({ wasm, k: 6, fuel: fuelBound - 1 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(NotProvableError);
    expect((err as NotProvableError).reason).toBe("FuelLimit");
    expect((err as NotProvableError).message).toContain(`${fuelBound} fuel`);
    expect((err as NotProvableError).hint).toMatch(/smaller K/);
  });
});
