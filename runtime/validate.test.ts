import { describe, expect, it } from "vitest";
import { Engine } from "./engine.ts";
import { ValidationError } from "./errors.ts";
import { MFI_IMPORTS, appletWat, wat } from "./wat.ts";

const engine = new Engine({ memoryPages: 16 });
const good = appletWat({ main: "" });

function rejected(bytes: Uint8Array): ValidationError {
  try {
    engine.compile(bytes);
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError);
    return err as ValidationError;
  }
  throw new Error("the module was accepted");
}

const mod = (fields: string) => wat(`(module ${fields})`);
const shell = (fields: string, memory = `(memory (export "memory") 1 2)`) =>
  mod(`${memory} ${fields} (func (export "mfi_main"))`);

describe("validation", () => {
  it("accepts a minimal ABI-shaped module", () => {
    expect(engine.compile(good).imageId).toMatch(/^[0-9a-f]{64}$/);
  });

  it.each([
    [
      "f64 arithmetic",
      `(func (result i64) (i64.trunc_f64_s (f64.add (f64.const 1) (f64.const 2))))`,
      "FloatInstruction",
      "f64.const",
    ],
    ["an f64 parameter", `(func (param f64))`, "FloatType", "f64"],
    ["an f32 local", `(func (local f32))`, "FloatType", "f32"],
    [
      "an f64 instruction in an i32 function",
      `(func (result i32) (i32.trunc_f64_s (f64.const 1.5)))`,
      "FloatInstruction",
      "f64.const",
    ],
    ["a float reinterpret", `(func (result i32) (i32.reinterpret_f32 (f32.const 1)))`, "FloatInstruction", "f32.const"],
    ["SIMD", `(func (drop (i32x4.splat (i32.const 1))))`, "SimdInstruction", undefined],
    ["atomics", `(func (drop (i32.atomic.load (i32.const 0))))`, "AtomicInstruction", "i32/i64.atomic.load"],
    [
      "table growth",
      `(table 1 funcref) (func (drop (table.grow (ref.null func) (i32.const 1))))`,
      "TableGrowth",
      "table.grow",
    ],
  ])("rejects %s naming the opcode and function", (_what, fields, code, opcode) => {
    const e = rejected(shell(fields));
    expect(e.code).toBe(code);
    if (opcode) expect(e.opcode).toBe(opcode);
    expect(e.functionIndex ?? 0).toBeGreaterThanOrEqual(0);
    if (code !== "FloatType") expect(e.functionIndex).toBe(0);
  });

  it("names the function index of the offending code (imports first)", () => {
    const e = rejected(
      mod(
        `${MFI_IMPORTS} (memory (export "memory") 1 2) (func) (func (result i32) (i32.trunc_f64_u (f64.const 1))) (func (export "mfi_main"))`,
      ),
    );
    expect(e.code).toBe("FloatInstruction");
    expect(e.functionIndex).toBe(9 + 1);
    expect(e.message).toContain("function 10 uses f64.const");
  });

  it.each([
    ["shared memory", `(memory (export "memory") 1 2 shared)`, "SharedMemory"],
    ["no memory maximum", `(memory (export "memory") 1)`, "MissingMemoryMaximum"],
    ["a maximum above the engine cap", `(memory (export "memory") 1 17)`, "MemoryMaximumTooLarge"],
    ["two memories", `(memory (export "memory") 1 2) (memory 1 2)`, "MultipleMemories"],
    ["no memory", ``, "MissingMemory"],
  ])("rejects %s", (_what, memory, code) => {
    expect(rejected(shell("", memory)).code).toBe(code);
  });

  it.each([
    ["env.seed", `(import "env" "seed" (func (result i32)))`, "env.seed"],
    ["env.abort", `(import "env" "abort" (func (param i32 i32 i32 i32)))`, "env.abort"],
    ["an unknown mfi function", `(import "mfi" "clock" (func (result i64)))`, "mfi.clock"],
    ["an imported memory", `(import "mfi" "memory" (memory 1 2))`, "mfi.memory"],
    ["asc's env.seed (returns f64)", `(import "env" "seed" (func (result f64)))`, "env.seed"],
  ])("rejects the import %s", (_what, imp, name) => {
    const mem = imp.includes("(memory") ? `(export "memory" (memory 0))` : `(memory (export "memory") 1 2)`;
    const e = rejected(mod(`${imp} ${mem} (func (export "mfi_main"))`));
    expect(e.code).toBe("ForbiddenImport");
    expect(e.import).toBe(name);
  });

  it("rejects an mfi import with the wrong signature", () => {
    const e = rejected(
      mod(`(import "mfi" "claim" (func (param i32 i32))) (memory (export "memory") 1 2) (func (export "mfi_main"))`),
    );
    expect(e.code).toBe("ImportSignatureMismatch");
    expect(e.import).toBe("mfi.claim");
  });

  it("rejects a start function", () => {
    const e = rejected(shell(`(func $init) (start $init)`));
    expect(e.code).toBe("StartFunction");
    expect(e.functionIndex).toBe(0);
  });

  it("rejects a data segment larger than the initial memory", () => {
    const e = rejected(shell(`(data (i32.const 65000) "${"x".repeat(1000)}")`));
    expect(e.code).toBe("DataSegmentOutOfBounds");
  });

  it("rejects missing exports and a wrong entry signature", () => {
    expect(rejected(mod(`(memory (export "memory") 1 2)`)).code).toBe("MissingExport");
    expect(rejected(mod(`(memory 1 2) (func (export "mfi_main"))`)).code).toBe("MissingExport");
    expect(rejected(mod(`(memory (export "memory") 1 2) (func (export "mfi_main") (param i32))`)).code).toBe(
      "EntrySignatureMismatch",
    );
  });

  it("rejects exports under the runtime's reserved __mfi prefix (the metering pass adds its own)", () => {
    for (const name of ["__mfi_reset", "__mfi_fuel_get", "__mfi_trap", "__mfi"]) {
      const e = rejected(shell(`(func (export "${name}"))`));
      expect(e.code).toBe("ReservedName");
      expect(e.message).toContain(name);
    }
  });

  it("rejects bytes that are not Wasm with a typed error, not a stack trace", () => {
    expect(rejected(new TextEncoder().encode("(module)")).code).toBe("NotWasm");
    expect(rejected(new Uint8Array(0)).code).toBe("NotWasm");
    const component = new Uint8Array([0, 0x61, 0x73, 0x6d, 0x0d, 0, 1, 0]);
    expect(rejected(component).code).toBe("NotWasm");
    const truncated = good.slice(0, good.length - 3);
    expect(rejected(truncated).code).toBe("InvalidWasm");
  });

  it("serialises validation errors for --json output", () => {
    const json = rejected(shell(`(func (local f64))`)).toJSON();
    expect(json).toMatchObject({ name: "ValidationError", code: "FloatType", docsPath: "docs/abi.md#validation" });
  });
});
