/**
 * A corpus of generated applets against the runtime (differential, fast-check): random i64 and i32 integer
 * expressions over the readings (arithmetic with wrap-around, bitwise ops, shifts by data, signed and unsigned
 * division with their traps, signed and unsigned comparisons), data-dependent branches and a nested constant loop,
 * each compiled with asc and with the applet compiler (K = 3) and checked on random epochs, i64 extremes included.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compileApplet as compileAs } from "../../toolchain/index.ts";
import { buildCircom } from "./circom-run.ts";
import { caseArb, circuitClaim, runtimeClaim } from "./differential.ts";
import { compileApplet } from "./index.ts";

const SDK = `import { claim, device, readingValue } from "../../sdk/assembly/index";`;
const K = 3;

const leaf = fc.oneof(
  fc.constantFrom("v0", "v1", "v2", "v3", "acc", "<i64>r"),
  fc.constantFrom("0", "1", "-1", "7", "1000", "i64.MIN_VALUE", "i64.MAX_VALUE").map((c) => `(<i64>${c})`),
);
const BIN = ["+", "-", "*", "&", "|", "^", "<<", ">>"];
const { expr } = fc.letrec<{ expr: string; cmp: string }>((tie) => ({
  expr: fc.oneof(
    { maxDepth: 3, depthSize: "small", withCrossShrink: true },
    leaf,
    fc.tuple(tie("expr"), fc.constantFrom(...BIN), tie("expr")).map(([a, o, b]) => `(${a} ${o} ${b})`),
    fc.tuple(tie("expr"), fc.constantFrom("/", "%"), tie("expr")).map(([a, o, b]) => `(${a} ${o} (${b} | 1))`),
    fc
      .tuple(tie("expr"), fc.constantFrom("/", "%", ">>"), tie("expr"))
      .map(([a, o, b]) => `<i64>(<u64>${a} ${o} <u64>(${b} | 1))`),
    fc
      .tuple(tie("expr"), fc.constantFrom("+", "*", "/", ">>", "<<"), tie("expr"))
      .map(([a, o, b]) => (o === "/" ? `<i64>(<i32>${a} / <i32>(${b} | 1))` : `<i64>(<i32>${a} ${o} <i32>${b})`)),
    fc.tuple(tie("cmp"), tie("expr"), tie("expr")).map(([c, a, b]) => `(${c} ? ${a} : ${b})`),
  ),
  cmp: fc
    .tuple(tie("expr"), fc.constantFrom("<", ">=", "==", "!=", "u<", "u>"), tie("expr"))
    .map(([a, o, b]) => (o.startsWith("u") ? `(<u64>${a} ${o.slice(1)} <u64>${b})` : `(${a} ${o} ${b})`)),
}));

const program = fc.record({ cond: expr, yes: expr, no: expr, inner: expr, out: expr }).map(
  (p) => `export function mfi_main(): void {
  const d = device(0);
  let acc: i64 = 0;
  for (let r = d.firstReading; r < d.firstReading + d.readingCount; r++) {
    const v0 = readingValue(r, 0); const v1 = readingValue(r, 1); const v2 = readingValue(r, 2); const v3 = readingValue(r, 3);
    if (${p.cond} > 0) acc = ${p.yes}; else acc = ${p.no};
    for (let i = 0; i < 2; i++) acc = acc * 3 + ${p.inner};
  }
  const v0: i64 = 0, v1: i64 = 0, v2: i64 = 0, v3: i64 = 0, r: u32 = 0;
  claim(d, <u64>(${p.out}));
}`,
);

describe("generated applets: the circuit's claim is the runtime's", { timeout: 600_000 }, () => {
  const programs = fc.sample(program, { seed: 18, numRuns: 4 });
  programs.forEach((source, n) => {
    it(`program ${n} (K = ${K})`, async () => {
      const wasm = (await compileAs({ source: `${SDK}\n${source}` })).wasm;
      const build = await buildCircom(compileApplet({ wasm, k: K }).claimOnlyMain);
      await fc.assert(
        fc.asyncProperty(fc.oneof(caseArb(K), caseArb(K, false, K)), async (c) => {
          expect(await circuitClaim(build, c, K), source).toBe(await runtimeClaim(wasm, c));
        }),
        { numRuns: 12, seed: 18 },
      );
    });
  });
});
