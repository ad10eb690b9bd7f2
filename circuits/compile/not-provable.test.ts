/** Every NotProvableError reason the compiler raises, each triggered by a small applet (AssemblyScript or WAT). */
import { describe, expect, it } from "vitest";
import { compileApplet as compileAs } from "../../toolchain/index.ts";
import { appletWat } from "../../runtime/testing.ts";
import { compileApplet, CompileInputError, NotProvableError, type NotProvableReason } from "./index.ts";
import { parseModule } from "./wasm.ts";

const SDK = `import { claim, device, readingValue, random } from "../../sdk/assembly/index";`;
const as = async (body: string) =>
  (
    await compileAs({
      source: `${SDK}\nexport function mfi_main(): void {\n  const d = device(0);\n  const v = readingValue(d.firstReading, 0);\n${body}\n}\n`,
    })
  ).wasm;

/** A WAT applet that reads the input to 1024 (so slot 0's values[0] is at 1024 + 72 + 24) before `body`. */
const watApplet = (body: string, extra = "") =>
  appletWat({
    main: `(local $len i32) (local.set $len (call $input_len)) (drop (call $input_read (i32.const 1024) (i32.const 0) (local.get $len))) ${body}`,
    extra,
  });

function refusal(wasm: Uint8Array): NotProvableError {
  try {
    compileApplet({ wasm, k: 4 });
  } catch (e) {
    if (e instanceof NotProvableError) return e;
    throw e;
  }
  throw new Error("compiled, but a NotProvableError was expected");
}

const cases: [NotProvableReason, () => Promise<Uint8Array>][] = [
  ["DataDependentAddress", () => as(`  claim(d, <u64>load<u8>(<usize>(v & 255)));`)],
  ["UnsupportedHostCall", () => as(`  claim(d, <u64>(v + random()));`)],
  ["UnboundedLoop", () => as(`  let x = <u64>v;\n  while (x != 7) x = x * 3 + 1;\n  claim(d, x);`)],
  [
    "DataDependentCall",
    async () =>
      watApplet(
        `(call_indirect (type $t) (i32.and (i32.wrap_i64 (i64.load (i32.const 1120))) (i32.const 1))) (call $claim (i32.const 1056) (i64.const 1))`,
        `(type $t (func)) (table 2 funcref) (elem (i32.const 0) $a $a) (func $a)`,
      ),
  ],
  [
    "DataDependentMemorySize",
    async () =>
      watApplet(
        `(drop (memory.grow (i32.and (i32.wrap_i64 (i64.load (i32.const 1120))) (i32.const 1)))) (call $claim (i32.const 1056) (i64.const 1))`,
      ),
  ],
  ["ClaimDevice", async () => watApplet(`(call $claim (i32.const 0) (i64.load (i32.const 1120)))`)],
  [
    "StatefulApplet",
    async () =>
      watApplet(
        `(drop (call $state_get (i32.const 1056) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0))) (call $claim (i32.const 1056) (i64.const 1))`,
      ),
  ],
  ["NeverClaims", async () => watApplet(`(drop (i64.load (i32.const 1120)))`)],
  ["UnsupportedInput", async () => watApplet(`(call $claim (i32.const 1056) (i64.load (i32.const 1056)))`)],
  ["PartialRead", async () => watApplet(`(call $claim (i32.const 1056) (i64.load32_u (i32.const 1120)))`)],
  [
    "UnsupportedInstruction",
    // A bitwise op of a reading value with a count-dependent value (the input length).
    async () =>
      watApplet(
        `(call $claim (i32.const 1056) (i64.and (i64.load (i32.const 1120)) (i64.extend_i32_u (local.get $len))))`,
      ),
  ],
];

describe("NotProvableError", { timeout: 120_000 }, () => {
  for (const [reason, make] of cases) {
    it(`${reason}: refused with the function, the offset and what to change`, async () => {
      const e = refusal(await make());
      expect(e.reason).toBe(reason);
      expect(e.func).toMatch(/\S/);
      expect(e.offset).toBeGreaterThanOrEqual(0);
      expect(e.hint.length).toBeGreaterThan(10);
      expect(e.message).toContain(reason);
    });
  }
});

describe("CompileInputError", () => {
  it("bytes that are not a Wasm module are refused before any circuit is built", () => {
    expect(() => parseModule(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]))).toThrow(CompileInputError);
    expect(() => parseModule(new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1]))).toThrow(/truncated/);
  });
});
