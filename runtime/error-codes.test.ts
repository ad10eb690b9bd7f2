/**
 * Every validation code and runtime error class is produced by a test. The codes not met by the hostile-module
 * tests (validate.test.ts, hostile.test.ts) are made here from raw module bytes, since wabt will not write them.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Engine, MeterError, RuntimeBaseError, ValidationError, validateModule, type ValidationCode } from "./index.ts";
import { meterModule } from "./meter.ts";
import { wat } from "./testing.ts";

/** A module of the given sections: [id, bytes] each, lengths encoded (all short here). */
function module(...sections: [number, number[]][]): Uint8Array {
  const out = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  for (const [id, body] of sections) out.push(id, body.length, ...body);
  return new Uint8Array(out);
}

function codeOf(bytes: Uint8Array): ValidationCode | undefined {
  try {
    validateModule(bytes, { memoryCapPages: 64 });
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError);
    return (err as ValidationError).code;
  }
  return undefined;
}

describe("validation codes without a hostile-module test elsewhere", () => {
  it("Memory64: a 64-bit memory", () => {
    expect(codeOf(module([5, [0x01, 0x05, 0x01, 0x01]]))).toBe("Memory64");
  });

  it("UnsupportedTable: two tables, or a table of anything but funcref", () => {
    expect(codeOf(module([4, [0x02, 0x70, 0x00, 0x01, 0x70, 0x00, 0x01]]))).toBe("UnsupportedTable");
    expect(codeOf(module([4, [0x01, 0x6f, 0x00, 0x01]]))).toBe("UnsupportedTable");
  });

  it("UnsupportedSection: exception tags, and section ids this runtime does not know", () => {
    expect(codeOf(module([13, [0x00]]))).toBe("UnsupportedSection");
    expect(codeOf(module([14, [0x00]]))).toBe("UnsupportedSection");
  });

  it("UnsupportedInstruction: a type that is not a function type (GC)", () => {
    expect(codeOf(module([1, [0x01, 0x5f, 0x00]]))).toBe("UnsupportedInstruction");
  });

  it("every code of ValidationCode is produced by some test", () => {
    const codes = [...readFileSync(join(import.meta.dirname, "errors.ts"), "utf8").matchAll(/\| "(\w+)"/g)].map(
      (m) => m[1]!,
    );
    expect(codes.length).toBeGreaterThan(20);
    const tests = ["validate.test.ts", "hostile.test.ts", "error-codes.test.ts", "abi.test.ts"]
      .map((f) => readFileSync(join(import.meta.dirname, f), "utf8"))
      .join("\n");
    expect(codes.filter((c) => !tests.includes(`"${c}"`))).toEqual([]);
  });
});

describe("MeterError", () => {
  it("is a runtime error: the metering pass refuses a float function it was handed without validation", () => {
    let caught: unknown;
    try {
      meterModule(wat(`(module (memory 1 1) (func (export "f") (result f64) (f64.const 1)))`), 1);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(MeterError);
    expect(caught).toBeInstanceOf(RuntimeBaseError);
    expect((caught as MeterError).shortMessage).toMatch(/only i32\/i64/);
  });

  it("is never reached through the Engine: validation refuses the same module first", () => {
    expect(() =>
      new Engine().compile(wat(`(module (memory 1 1) (func (export "f") (result f64) (f64.const 1)))`)),
    ).toThrow(ValidationError);
  });
});
