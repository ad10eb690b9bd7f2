/**
 * The metering pass's exact output on hand-written modules that take its paths (loops, small and large if-arms,
 * calls, call_indirect, host calls, memory.grow, block results, br_table, `__mfi` names), pinned by sha256. Fuel is a
 * consensus rule: a refactor of the pass (meter*.ts) must leave these bytes alone. A change that is meant (a new cost,
 * a binaryen upgrade) is re-recorded here once fuel.test.ts and test/attacks/fuel.ts pass. Recorded from the
 * single-function meterModule before it was split into passes.
 */
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { meterModule } from "./meter.ts";
import { validateModule } from "./validate.ts";
import { MFI_IMPORTS, appletWat, wat } from "./wat.ts";

const LIB = `
  (type $t (func (param i32) (result i32)))
  (table 2 2 funcref) (elem (i32.const 0) $work $rec)
  (func $work (param $n i32) (result i32) (local $i i32)
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
      (if (i32.and (local.get $i) (i32.const 1)) (then (local.set $i (i32.add (local.get $i) (i32.const 1)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l)))
    (local.get $i))
  (func $rec (param $n i32) (result i32)
    (if (result i32) (i32.eqz (local.get $n)) (then (i32.const 0))
      (else (i32.mul (i32.const 0) (i32.add (call $rec (i32.sub (local.get $n) (i32.const 1)))
        (i32.add (i32.add (local.get $n) (local.get $n)) (i32.add (local.get $n) (local.get $n))))))))
  (func $pick (param $a i32) (result i32)
    (block $b (result i32) (block $c (result i32) (local.get $a)
      (br_table $b $c $b (local.get $a) (local.get $a)))
      (i32.add (i32.const 2))))`;

const modules: Record<string, { wasm: Uint8Array; sha256: string }> = {
  "loops, if-arms, call_indirect": {
    sha256: "ee5f061aa4d0b9092a07ff6900c53887640f26156591b924ba00ee7947fad204",
    wasm: appletWat({
      main: `(drop (call_indirect (type $t) (i32.const 10) (i32.const 0)))
      (drop (call_indirect (type $t) (call $work (i32.const 3)) (i32.const 1)))
      (drop (call $pick (i32.const 7)))`,
      extra: LIB,
    }),
  },
  "host calls and memory.grow": {
    sha256: "b4149751355516907a3523b79c3188d223b10ef5b2826b93d8343c942296d1fe",
    wasm: appletWat({
      main: `(local $p i32)
      (local.set $p (i32.mul (memory.grow (i32.const 1)) (i32.const 65536)))
      (call $emit (call $work (call $input_len)) (i32.const 8))
      (i64.store (i32.const 0) (call $random))
      (memory.fill (i32.const 16) (i32.const 0) (i32.const 32))
      (memory.copy (i32.const 64) (i32.const 0) (i32.const 8))
      (call $claim (i32.const 0) (i64.extend8_s (i64.load (i32.const 64))))
      (drop (select (local.get $p) (i32.const 1)
        (call $state_get (i32.const 0) (i32.const 32) (i32.const 0) (i32.const 0) (i32.const 32))))`,
      extra: LIB,
      memory: "1 4",
    }),
  },
  "__mfi names in the name section": {
    sha256: "bc685388c85d6f7a860a46fba6386eb9fe429b17bcf1ea46759689758dd5e921",
    wasm: wat(
      `(module ${MFI_IMPORTS} (memory (export "memory") 1 2)
      (global $__mfi_fuel (mut i64) (i64.const 7))
      (func $__mfi_reset (param $n i64)
        (i64.store (i32.const 64) (local.get $n)) (call $emit (i32.const 64) (i32.const 8)))
      (func (export "mfi_main") (call $__mfi_reset (global.get $__mfi_fuel))))`,
      { names: true },
    ),
  },
};

describe("meterModule output", () => {
  for (const [name, { wasm, sha256 }] of Object.entries(modules)) {
    it(name, () => {
      const info = validateModule(wasm, { memoryCapPages: 16 });
      expect(info).toMatchObject({ memoryMinPages: 1, importedFunctions: 9, passiveData: false });
      const metered = meterModule(wasm, info.memoryMaxPages);
      expect(createHash("sha256").update(metered).digest("hex")).toBe(sha256);
    });
  }
});
