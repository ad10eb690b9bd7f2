/**
 * The example applets under applets/, compiled from their built Wasm (the bytes of their imageId) and checked
 * against the runtime (differential, fast-check, K = 4): random readings with values at the i64 extremes, K-full
 * epochs, readings at the threshold's edges. An empty epoch has no claim in the runtime, so there is nothing to
 * prove (ReadingsChain requires slot 0 inside); that is checked on the runtime side. uptime-streak keeps state
 * between epochs: stateful.test.ts.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { promisify } from "node:util";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { loadBuiltApplet } from "../../toolchain/index.ts";
import { buildCircom } from "./circom-run.ts";
import { caseArb, circuitClaim, runtimeClaim, type Case } from "./differential.ts";
import { NotProvableError, compileApplet } from "./index.ts";

const K = 4;

/** values[0] within a few units of the param, so `v > threshold` goes both ways and ties are reached. */
const nearParam = (minN: number): fc.Arbitrary<Case> =>
  fc
    .tuple(caseArb(K, true, minN), fc.array(fc.integer({ min: -2, max: 2 }), { minLength: K, maxLength: K }))
    .map(([c, offs]) => {
      const p = c.param! > 1n << 62n ? c.param! - 4n : c.param! < -(1n << 62n) ? c.param! + 4n : c.param!;
      return { ...c, param: p, values: c.values.map((v, i) => [p + BigInt(offs[i]!), v[1]!, v[2]!, v[3]!]) };
    });

const APPLETS: { name: string; hasParam: boolean; arb: fc.Arbitrary<Case> }[] = [
  {
    name: "energy-sum",
    hasParam: false,
    arb: fc.oneof(caseArb(K), caseArb(K, false, K)),
  },
  {
    name: "threshold-alert",
    hasParam: true,
    arb: fc.oneof(caseArb(K, true), caseArb(K, true, K), nearParam(1), nearParam(K)),
  },
];

describe("the example applets compile to their runtime claims", { timeout: 300_000 }, () => {
  for (const a of APPLETS) {
    it(`${a.name}: the circuit's claim is the runtime's (K = ${K}), K-full epochs and i64 extremes included`, async () => {
      const wasm = loadBuiltApplet(a.name);
      const build = await buildCircom(compileApplet({ wasm, k: K, hasParam: a.hasParam }).claimOnlyMain);
      const outputs = new Set<bigint | undefined>();
      let full = 0;
      await fc.assert(
        fc.asyncProperty(a.arb, async (c) => {
          const want = await runtimeClaim(wasm, c);
          outputs.add(want);
          if (c.ts.length === K) full++;
          expect(await circuitClaim(build, c, K)).toBe(want);
        }),
        { numRuns: 60, seed: 18 },
      );
      expect(outputs.size).toBeGreaterThan(3);
      expect(full).toBeGreaterThan(10);
      // An empty epoch: the runtime makes no claim, so there is no statement to prove.
      const empty: Case = { deviceId: 5n, seq0: 1n, start: 1000n, length: 10n, ts: [], values: [], param: 0n };
      expect(await runtimeClaim(wasm, empty)).toBeUndefined();
    });
  }

  it("compiling twice gives byte-identical circuits, in this process and in another one (threshold-alert, K = 16)", async () => {
    const sha = (t: string) => createHash("sha256").update(t).digest("hex");
    const wasm = loadBuiltApplet("threshold-alert");
    const a = compileApplet({ wasm, k: 16, hasParam: true });
    const b = compileApplet({ wasm, k: 16, hasParam: true });
    expect(b.main).toBe(a.main);
    expect(b.template).toBe(a.template);
    const script = `
      import { createHash } from "node:crypto";
      import { loadBuiltApplet } from "./toolchain/index.ts";
      import { compileApplet } from "./circuits/index.ts";
      const c = compileApplet({ wasm: loadBuiltApplet("threshold-alert"), k: 16, hasParam: true });
      console.log(createHash("sha256").update(c.main).digest("hex"));`;
    const root = new URL("../../", import.meta.url).pathname;
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ["--import", "./cli/register.mjs", "--input-type=module", "-e", script],
      { cwd: root },
    );
    expect(stdout.trim()).toBe(sha(a.main));
  });

  it("uptime-streak compiles, committing to its state keys best and streak (stateful.test.ts checks it against the runtime)", () => {
    const c = compileApplet({ wasm: loadBuiltApplet("uptime-streak"), k: 16, hasParam: true, stateful: true });
    expect(c.stateKeys.map((k) => Buffer.from(k, "hex").toString())).toEqual(["best", "streak"]);
    expect(c.main).toMatch(/public \[imageId, deviceId, epoch, claimOutput, param, stateIn, stateOut\]/);
  });

  it("without stateful, uptime-streak is still refused up front, naming its state (the vault cannot pay it yet)", () => {
    let err: unknown;
    try {
      compileApplet({ wasm: loadBuiltApplet("uptime-streak"), k: 16, hasParam: true });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(NotProvableError);
    const e = err as NotProvableError;
    expect(e.reason).toBe("StatefulApplet");
    expect(e.offset).toBeGreaterThan(0);
    expect(e.message).toMatch(/state between epochs/);
  });
});
