import { describe, expect, it } from "vitest";
import {
  Engine,
  Trap,
  ValidationError,
  functionNames,
  functionNamesFromText,
  runModule,
  validateModule,
} from "./index.ts";
import { MFI_IMPORTS, appletWat, wat } from "./testing.ts";

const floatApplet = (names: boolean) =>
  wat(
    `(module ${MFI_IMPORTS}
      (memory (export "memory") 1 2)
      (func $payout (param i64) (result i64) (i64.trunc_f64_s (f64.mul (f64.convert_i64_s (local.get 0)) (f64.const 1.5))))
      (func (export "mfi_main") (drop (call $payout (i64.const 2)))))`,
    { names },
  );

function refusal(bytes: Uint8Array): ValidationError {
  try {
    validateModule(bytes, { memoryCapPages: 64 });
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError);
    return err as ValidationError;
  }
  throw new Error("the module was accepted");
}

describe("refusals say what to change", () => {
  it("a float names the source function (name section) and points to fixed point", () => {
    const e = refusal(floatApplet(true));
    expect(e.code).toBe("FloatInstruction");
    expect(e.shortMessage).toMatch(/^function \d+ \(payout\) uses f64\./);
    expect(e.message).toMatch(/fixed helpers/);
    expect(functionNames(floatApplet(true)).get(e.functionIndex!)).toBe("payout");
  });

  it("without a name section the index stays, and the advice is there", () => {
    const e = refusal(floatApplet(false));
    expect(e.shortMessage).toMatch(/^function \d+ uses f64\./);
    expect(e.message).toMatch(/fixed helpers/);
    expect(functionNames(floatApplet(false)).size).toBe(0);
  });

  it("names from the text format count imported functions first", () => {
    const names = functionNamesFromText(
      `(module\n (import "mfi" "log" (func $~lib/log (param i32)))\n (func $assembly/index/payout (result i64)\n  i64.const 1)\n (func $assembly/index/mfi_main\n )\n)`,
    );
    expect([...names]).toEqual([
      [0, "~lib/log"],
      [1, "assembly/index/payout"],
      [2, "assembly/index/mfi_main"],
    ]);
  });

  it("Math.random() and Date.now() imports say what to use instead", () => {
    const env = (name: string) =>
      refusal(
        wat(`(module (import "env" "${name}" (func (result f64)))
          (memory (export "memory") 1 2) (func (export "mfi_main")))`),
      );
    const seed = env("seed");
    expect(seed.code).toBe("ForbiddenImport");
    expect(seed.message).toMatch(/use random\(\) from the SDK/);
    expect(env("Date.now").message).toMatch(/use readingTs\(i\) \/ epochStart\(\) from the SDK/);
  });

  it("a refusal message is one message: the engine reports it once", () => {
    const e = refusal(appletWat({ main: "(drop (f64.const 1))" }));
    expect(e.message.split("\n").filter((l) => /uses f64/.test(l))).toHaveLength(1);
    expect(() => new Engine({}).compile(floatApplet(true))).toThrow(/\(payout\)/);
  });
});

describe("traps say where and how much", () => {
  const spin = (names: boolean) =>
    wat(
      `(module ${MFI_IMPORTS}
        (memory (export "memory") 1 2)
        (func $spin (local $i i32)
          (loop $l (local.set $i (i32.add (local.get $i) (i32.const 1))) (br_if $l (i32.lt_u (local.get $i) (i32.const 1000000)))))
        (func $mfi_main (export "mfi_main") (call $spin)))`,
      { names },
    );

  it("OutOfFuel names the function that was running", () => {
    const engine = new Engine({});
    const named = runModule(engine, engine.compile(spin(true)), { fuel: 5000 });
    expect(named.trap?.kind).toBe(Trap.OutOfFuel);
    expect(named.trap?.message).toMatch(/^out of fuel \(limit 5000\) in function \d+ \(spin\)$/);
    const bare = runModule(engine, engine.compile(spin(false)), { fuel: 5000 });
    expect(bare.trap?.message).toMatch(/^out of fuel \(limit 5000\) in function \d+$/);
    expect(bare.fuelUsed).toBe(named.fuelUsed); // a message, not a change to metering
  });
});
