/**
 * The hostile-applet suite: every attack ends in a typed validation error or a trap, and the same Engine then
 * runs a good applet correctly.
 */
import { afterEach, describe, expect, it } from "vitest";
import { Engine } from "./engine.ts";
import { RuntimeInputError, ValidationError } from "./errors.ts";
import { decodeJournal } from "./journal.ts";
import { runModule } from "./run.ts";
import { MAX_FUEL, STACK_BUDGET, frameWeight } from "./fuel.ts";
import { Trap } from "./trap.ts";
import { MFI_IMPORTS, appletWat, wat } from "./wat.ts";

const engine = new Engine({ fuel: 2_000_000, memoryPages: 16, journalBytes: 4096 });
const readings = [{ deviceId: 5n, seq: 1n, ts: 1n, values: [3n] }];

// A good applet: claims 42 for the 32-byte device id it writes at address 0.
const good = appletWat({ main: `(i64.store (i32.const 0) (i64.const 5)) (call $claim (i32.const 0) (i64.const 42))` });
afterEach(() => {
  const r = runModule(engine, engine.compile(good), { readings });
  expect(r.trap).toBeNull();
  expect(decodeJournal(r.journal).claims).toEqual([{ deviceId: 5n, output: 42n }]);
});

function run(main: string, extra = "", fuel?: number) {
  return runModule(engine, engine.compile(appletWat({ main, extra })), { readings, fuel });
}

describe("hostile applets", () => {
  it("functions and globals named like the metering pass's own (__mfi_*) in the name section are metered like any", () => {
    // Without the name section binaryen would take these names and abort on adding its own.
    const named = (names: boolean) =>
      wat(
        `(module ${MFI_IMPORTS} (memory (export "memory") 1 2)
          (global $__mfi_fuel (mut i64) (i64.const 7)) (global $__mfi_trap (mut i32) (i32.const 1))
          (func $__mfi_reset (param $n i64) (i64.store (i32.const 64) (local.get $n)) (call $emit (i32.const 64) (i32.const 8)))
          (func $__mfi_fuel_get (if (i32.eqz (global.get $__mfi_trap)) (then (loop $l (br $l)))))
          (func (export "mfi_main") (global.set $__mfi_fuel (i64.add (global.get $__mfi_fuel) (i64.const 1)))
            (call $__mfi_reset (global.get $__mfi_fuel)) (call $__mfi_fuel_get)))`,
        { names },
      );
    const a = runModule(engine, engine.compile(named(true)), { readings });
    const b = runModule(engine, engine.compile(named(false)), { readings });
    expect(a.trap).toBeNull();
    expect(decodeJournal(a.journal).records.map((r) => Buffer.from(r).readBigInt64LE())).toEqual([8n]);
    expect({ ...a, imageId: "" }).toEqual({ ...b, imageId: "" });
    // Run again on the reused instance: the applet's own globals start over too.
    expect(runModule(engine, engine.compile(named(true)), { readings }).journalDigest).toBe(a.journalDigest);
  });

  it("infinite loop → OutOfFuel with the fuel used", () => {
    const r = run(`(loop $l (br $l))`);
    expect(r.trap?.kind).toBe(Trap.OutOfFuel);
    expect(r.fuelUsed).toBe(2_000_000);
    expect(r.journal.length).toBe(0);
  });

  it("a loop without a back-edge to its header still pays per iteration (nested blocks)", () => {
    const r = run(
      `(local $i i32) (block $out (loop $l (local.set $i (i32.add (local.get $i) (i32.const 1))) (br_if $l (i32.ne (local.get $i) (i32.const -1)))))`,
    );
    expect(r.trap?.kind).toBe(Trap.OutOfFuel);
  });

  it("unbounded recursion → StackOverflow (or OutOfFuel), never a host crash", () => {
    const r = run(
      `(call $rec (i32.const 0))`,
      `(func $rec (param i32) (call $rec (i32.add (local.get 0) (i32.const 1))))`,
    );
    expect(r.trap?.kind).toBe(Trap.StackOverflow);
    const small = run(
      `(call $rec (i32.const 0))`,
      `(func $rec (param i32) (call $rec (i32.add (local.get 0) (i32.const 1))))`,
      10_000,
    );
    expect(small.trap?.kind).toBe(Trap.OutOfFuel);
  });

  it("StackOverflow comes at a fixed call depth, whatever the host stack below the entry", () => {
    // $down(n) recurses n times: frames of weight frameWeight(1 param), under mfi_main's frameWeight(0).
    const most = Math.floor((STACK_BUDGET - frameWeight(0)) / frameWeight(1));
    const down = `(func $down (param i32) (if (local.get 0) (then (call $down (i32.sub (local.get 0) (i32.const 1))))))`;
    const depth = (n: number) => run(`(call $down (i32.const ${n - 1}))`, down);
    expect(depth(most).trap).toBeNull();
    const over = depth(most + 1);
    expect(over.trap?.kind).toBe(Trap.StackOverflow);
    expect(over.trap?.message).toMatch(/call depth/);
    // The same run entered from a deep JS stack: the same trap after the same fuel (V8's own limit is never hit).
    const deep = (k: number): ReturnType<typeof depth> => (k === 0 ? depth(most + 1) : deep(k - 1));
    const fromDeep = deep(3000);
    expect(fromDeep.trap).toEqual(over.trap);
    expect(fromDeep.fuelUsed).toBe(over.fuelUsed);
  });

  it("recursion through the function table is metered and bounded too (StackOverflow, or OutOfFuel when short)", () => {
    const table = `(type $t (func (param i32))) (table 1 1 funcref) (elem (i32.const 0) $rec)
      (func $rec (param i32) (call_indirect (type $t) (i32.add (local.get 0) (i32.const 1)) (i32.const 0)))`;
    const deep = run(`(call $rec (i32.const 0))`, table);
    expect(deep.trap?.kind).toBe(Trap.StackOverflow);
    expect(deep.trap?.message).toMatch(/call depth/); // the metered counter, not V8's own stack limit
    const short = run(`(call $rec (i32.const 0))`, table, 5_000);
    expect(short.trap?.kind).toBe(Trap.OutOfFuel);
    expect(short.fuelUsed).toBe(5_000);
    // A bounded indirect recursion returns its value and charges the same fuel on every run.
    const sum = `(type $s (func (param i32) (result i64))) (table 1 1 funcref) (elem (i32.const 0) $sum)
      (func $sum (param i32) (result i64) (if (result i64) (i32.eqz (local.get 0)) (then (i64.const 0))
        (else (i64.add (i64.extend_i32_u (local.get 0)) (call_indirect (type $s) (i32.sub (local.get 0) (i32.const 1)) (i32.const 0))))))`;
    const a = run(
      `(i64.store (i32.const 0) (i64.const 5)) (call $claim (i32.const 0) (call $sum (i32.const 100)))`,
      sum,
    );
    expect(a.trap).toBeNull();
    expect(decodeJournal(a.journal).claims).toEqual([{ deviceId: 5n, output: 5050n }]);
    expect(
      run(`(i64.store (i32.const 0) (i64.const 5)) (call $claim (i32.const 0) (call $sum (i32.const 100)))`, sum)
        .fuelUsed,
    ).toBe(a.fuelUsed);
  });

  it("a function returning several values → ValidationError (the metering pass returns the fuel counter as one more)", () => {
    const mv = () =>
      engine.compile(
        appletWat({
          main: `(drop (call $two)) (drop)`,
          extra: `(func $two (result i32 i32) (i32.const 1) (i32.const 2))`,
        }),
      );
    expect(mv).toThrow(ValidationError);
    expect(mv).toThrow(/returns 2 values/);
  });

  it("a fuel budget outside 1..MAX_FUEL → RuntimeInputError, from the Engine and per run", () => {
    for (const fuel of [0, -1, 1.5, MAX_FUEL + 1, Number.MAX_SAFE_INTEGER]) {
      expect(() => new Engine({ fuel }), String(fuel)).toThrow(RuntimeInputError);
      expect(() => run("", "", fuel), String(fuel)).toThrow(/fuel must be an integer from 1 to/);
    }
    expect(run("", "", MAX_FUEL).trap).toBeNull();
  });

  it("memory.grow bomb → MemoryLimit", () => {
    const r = run(`(loop $l (drop (memory.grow (i32.const 1))) (br $l))`);
    expect(r.trap?.kind).toBe(Trap.MemoryLimit);
    // the message states the limit, in pages and bytes (appletWat's memory is "1 2")
    expect(r.trap?.message).toMatch(/maximum of 2 pages \(131,072 bytes\)/);
  });

  it("a single huge memory.grow → MemoryLimit", () => {
    expect(run(`(drop (memory.grow (i32.const 65536)))`).trap?.kind).toBe(Trap.MemoryLimit);
    expect(run(`(drop (memory.grow (i32.const -1)))`).trap?.kind).toBe(Trap.MemoryLimit);
  });

  it("growing within the maximum works", () => {
    const r = run(
      `(if (i32.ne (memory.grow (i32.const 1)) (i32.const 1)) (then unreachable)) (i64.store (i32.const 70000) (i64.const 5)) (call $claim (i32.const 70000) (i64.const 1))`,
    );
    expect(r.trap).toBeNull();
  });

  it("float arithmetic → ValidationError", () => {
    expect(() => engine.compile(appletWat({ main: `(drop (f64.mul (f64.const 2) (f64.const 3)))` }))).toThrow(
      ValidationError,
    );
  });

  it("unknown import, start function and a huge data segment → ValidationError", () => {
    const codes = [
      () =>
        engine.compile(
          wat(
            `(module (import "env" "seed" (func (result f64))) (memory (export "memory") 1 2) (func (export "mfi_main")))`,
          ),
        ),
      () => engine.compile(appletWat({ main: "", extra: `(func $s) (start $s)` })),
      () => engine.compile(appletWat({ main: "", extra: `(data (i32.const 0) "${"\\00".repeat(70_000)}")` })),
    ].map((f) => {
      try {
        f();
        return "accepted";
      } catch (err) {
        return (err as ValidationError).code;
      }
    });
    expect(codes).toEqual(["ForbiddenImport", "StartFunction", "DataSegmentOutOfBounds"]);
  });

  it("out-of-bounds pointers to every host function → HostError", () => {
    const oob = "(i32.const 131072)"; // memory max is 2 pages = 131072 bytes: the first byte outside
    const calls = [
      `(call $log ${oob} (i32.const 1))`,
      `(drop (call $input_read ${oob} (i32.const 0) (i32.const 8)))`,
      `(drop (call $state_get ${oob} (i32.const 0) (i32.const 1) (i32.const 0) (i32.const 8)))`,
      `(drop (call $state_get (i32.const 0) ${oob} (i32.const 1) (i32.const 0) (i32.const 8)))`,
      `(drop (call $state_get (i32.const 0) (i32.const 0) (i32.const 1) ${oob} (i32.const 8)))`,
      `(call $state_set ${oob} (i32.const 0) (i32.const 1) (i32.const 0) (i32.const 8))`,
      `(call $state_set (i32.const 0) (i32.const 0) (i32.const 1) ${oob} (i32.const 8))`,
      `(call $emit ${oob} (i32.const 1))`,
      `(call $emit (i32.const 0) (i32.const -1))`,
      `(call $claim ${oob} (i64.const 1))`,
      `(call $claim (i32.const 65530) (i64.const 1))`,
      `(call $abort ${oob} (i32.const 4))`,
    ];
    for (const c of calls) {
      const r = run(c);
      expect(r.trap?.kind, c).toBe(Trap.HostError);
      expect(r.trap?.message, c).toMatch(/outside the applet's memory/);
    }
  });

  it("a journal larger than the cap → HostError, and the trapped journal keeps no records", () => {
    const r = run(`(loop $l (call $emit (i32.const 0) (i32.const 1000)) (br $l))`);
    expect(r.trap?.kind).toBe(Trap.HostError);
    expect(r.trap?.message).toMatch(/journal/);
    expect(decodeJournal(r.journal).records).toEqual([]);
  });

  it("abort with a message → AppletAbort carrying it", () => {
    const r = run(
      `(call $log (i32.const 0) (i32.const 5)) (call $abort (i32.const 0) (i32.const 5))`,
      `(data (i32.const 0) "boom!")`,
    );
    expect(r.trap).toEqual({ kind: Trap.AppletAbort, message: "boom!" });
    expect(decodeJournal(r.journal).logs).toEqual(["boom!"]);
  });

  it("Wasm traps (unreachable, division by zero, out-of-bounds load) → Unreachable", () => {
    expect(run(`unreachable`).trap?.kind).toBe(Trap.Unreachable);
    expect(run(`(drop (i32.div_u (i32.const 1) (i32.const 0)))`).trap?.kind).toBe(Trap.Unreachable);
    expect(run(`(drop (i64.load (i32.const 131070)))`).trap?.kind).toBe(Trap.Unreachable);
  });

  it("a second claim for the same device → HostError", () => {
    const r = run(`(call $claim (i32.const 0) (i64.const 1)) (call $claim (i32.const 0) (i64.const 2))`);
    expect(r.trap?.kind).toBe(Trap.HostError);
    expect(r.trap?.message).toMatch(/already has a claim/);
  });
});
