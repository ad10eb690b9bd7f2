/**
 * The applet compiler against the runtime (differential, fast-check) on energy-sum: the compiled claim template's
 * witness output equals runApplet's claim for random readings and epochs, and compiling is deterministic.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { APPLET_BUILD_DIR } from "../../toolchain/index.ts";
import { compileApplet as compileAs } from "../../toolchain/index.ts";
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

const SDK = `import { claim, device, readingValue, readingTs, configParam } from "../../sdk/assembly/index";`;
/** Small applets aimed at the exact semantics: i64 wrap-around, signed compares, data-dependent branches, traps. */
const APPLETS: Record<string, string> = {
  wrap: `export function mfi_main(): void {
  const d = device(0);
  let p: i64 = 1; let s: i64 = 0;
  for (let r = d.firstReading; r < d.firstReading + d.readingCount; r++) {
    p = p * (readingValue(r, 0) | 1);
    s += readingValue(r, 1) - readingValue(r, 2);
  }
  claim(d, <u64>(p ^ s));
}`,
  branches: `export function mfi_main(): void {
  const d = device(0);
  let count: u64 = 0; let acc: i64 = 0;
  for (let r = d.firstReading; r < d.firstReading + d.readingCount; r++) {
    const v = readingValue(r, 0);
    if (v < -5) { count++; acc -= v; }
    else if (<u64>v > 1000) acc += v >> 3;
    else acc = acc * 3 + readingValue(r, 3);
  }
  claim(d, count * 1000 + <u64>acc);
}`,
  divide: `export function mfi_main(): void {
  const d = device(0);
  let q: u64 = 0;
  for (let r = d.firstReading; r < d.firstReading + d.readingCount; r++) {
    q += <u64>readingValue(r, 1) / (<u64>readingValue(r, 2) & 7) + (readingTs(r) % 10);
  }
  claim(d, q + <u64>configParam(3));
}`,
  // A checked lookup: 8 buckets in a static segment indexed by data (loads and stores at a data-dependent address).
  buckets: `const BUCKETS = memory.data(32);
@inline function at(v: i64): usize { return BUCKETS + (<usize>(v & 7) << 2); }
export function mfi_main(): void {
  const d = device(0);
  for (let r = d.firstReading; r < d.firstReading + d.readingCount; r++) {
    const p = at(readingValue(r, 0));
    store<u32>(p, load<u32>(p) + 1 + <u32>(readingValue(r, 1) & 3));
  }
  let best: u32 = 0; let score: u64 = 0;
  for (let i: usize = 0; i < 8; i++) { const b = load<u32>(BUCKETS + (i << 2)); if (b > best) best = b; score = score * 7 + b; }
  claim(d, score * 100 + <u64>best + <u64>load<u32>(at(readingValue(d.firstReading, 2))));
}`,
};

describe("compileApplet on hand-written applets", { timeout: 300_000 }, () => {
  for (const [name, source] of Object.entries(APPLETS)) {
    it(`${name}: the circuit's claim is the runtime's (K = 4), and no witness where the run traps`, async () => {
      const K = 4;
      const wasm = (await compileAs({ source: `${SDK}\n${source}` })).wasm;
      const hasParam = name === "divide";
      const build = await buildCircom(compileApplet({ wasm, k: K, hasParam }).claimOnlyMain);
      await fc.assert(
        fc.asyncProperty(caseArb(K, hasParam), async (c) => {
          expect(await circuitClaim(build, c, K)).toBe(await runtimeClaim(wasm, c));
        }),
        { numRuns: 40, seed: 18 },
      );
    });
  }
});
