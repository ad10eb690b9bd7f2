/**
 * The applet compiler against the runtime (differential, fast-check) on energy-sum: the compiled claim template's
 * witness output equals runApplet's claim for random readings and epochs, and compiling is deterministic.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { APPLET_BUILD_DIR } from "../../runtime/applets.ts";
import { compileApplet } from "./index.ts";
import { buildCircom } from "./circom-run.ts";
import { caseArb, circuitClaim, runtimeClaim } from "./differential.ts";

const energySum = () => new Uint8Array(readFileSync(join(APPLET_BUILD_DIR, "energy-sum.wasm")));

describe("compileApplet on energy-sum", { timeout: 300_000 }, () => {
  it("is deterministic: the same Wasm and K give byte-identical circom", () => {
    const a = compileApplet({ wasm: energySum(), k: 4 });
    const b = compileApplet({ wasm: energySum(), k: 4 });
    expect(a.main).toBe(b.main);
    expect(a.claimOnlyMain).toBe(b.claimOnlyMain);
    expect(a.templateName).toBe(`AppletClaim_${a.imageId.slice(0, 16)}`);
  });

  it("computes the runtime's claim for random readings and epochs (K = 4)", async () => {
    const K = 4;
    const wasm = energySum();
    const build = await buildCircom(compileApplet({ wasm, k: K }).claimOnlyMain);
    let claimed = 0;
    await fc.assert(
      fc.asyncProperty(caseArb(K), async (c) => {
        const want = await runtimeClaim(wasm, c);
        if (want !== undefined) claimed++;
        expect(await circuitClaim(build, c, K)).toBe(want);
      }),
      { numRuns: 60, seed: 18 },
    );
    expect(claimed).toBeGreaterThan(5);
  });
});
