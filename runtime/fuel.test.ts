/**
 * The fuel rule (docs/fuel.md): a run with fuel N finishes iff N ≥ its fuelUsed, with the same journal and state
 * root as with unlimited fuel. Checked on hand-written modules that charge fuel where the meter once lost it (inside
 * the operands of host calls and call_indirect) and on generated ones (recursion, loops, host calls, the table).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { listApplets, manifestConfig } from "../toolchain/index.ts";
import { Engine } from "./engine.ts";
import { fuelRuns, outcome } from "./fuel-exact.ts";
import { STACK_BUDGET, frameWeight } from "./fuel.ts";
import { loadBuiltApplet } from "../toolchain/index.ts";
import type { AppletReading } from "./input.ts";
import { runModule } from "./run.ts";
import { Trap } from "./trap.ts";
import { appletWat } from "./wat.ts";

const engine = new Engine({ fuel: 50_000_000, memoryPages: 16, journalBytes: 1 << 16 });
const readings = [{ deviceId: 5n, seq: 1n, ts: 1n, values: [3n] }];

/** Functions the generated mains call: a loop, a recursion with a large if-arm, both reachable through the table. */
const LIB = `
  (type $t (func (param i32) (result i32)))
  (table 2 2 funcref) (elem (i32.const 0) $work $rec)
  (func $work (param $n i32) (result i32) (local $i i32)
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l)))
    (i32.const 0))
  (func $rec (param $n i32) (result i32)
    (if (result i32) (i32.eqz (local.get $n)) (then (i32.const 0))
      (else (i32.mul (i32.const 0) (i32.add (call $rec (i32.sub (local.get $n) (i32.const 1)))
        (i32.add (i32.add (local.get $n) (local.get $n)) (i32.add (local.get $n) (local.get $n))))))))`;

function expectExact(main: string, trap: string | null = null) {
  const { n, free, exact, short } = fuelRuns(engine, engine.compile(appletWat({ main, extra: LIB })), { readings });
  expect(free.trap?.kind ?? null).toBe(trap);
  expect(outcome(exact)).toEqual(outcome(free));
  expect(short?.trap?.kind).toBe(Trap.OutOfFuel);
  expect(short?.fuelUsed).toBe(n - 1);
  return n;
}

describe("fuel is exact", () => {
  it("counts what a host call's operand charges (a call, a loop): the same fuel as when computed beforehand", () => {
    // The meter synced the counter to the host before the operands ran and reloaded it after the call: the
    // operand's charges were tested against the limit but dropped from fuelUsed (issue 16).
    const inline = expectExact(`(call $emit (call $work (i32.const 200)) (i32.const 8))`);
    const before = expectExact(
      `(local $p i32) (local.set $p (call $work (i32.const 200))) (call $emit (local.get $p) (i32.const 8))`,
    );
    expect(inline).toBe(before - 2); // the local.set and local.get cost one unit each
    const loopArg = expectExact(
      `(local $i i32) (call $log (i32.const 0) (loop $l (result i32) (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 300))) (i32.const 4)))`,
    );
    expect(loopArg).toBeGreaterThan(300 * 8);
  });

  it("counts what the table index and arguments of call_indirect charge", () => {
    const inline = expectExact(
      `(drop (call_indirect (type $t) (call $rec (i32.const 50)) (call $work (i32.const 100))))`,
    );
    const before =
      expectExact(`(local $a i32) (local $b i32) (local.set $a (call $rec (i32.const 50))) (local.set $b (call $work (i32.const 100)))
      (drop (call_indirect (type $t) (local.get $a) (local.get $b)))`);
    expect(inline).toBe(before - 4);
  });

  it("holds for generated modules: loops, recursion, host calls and the table, in any order and nesting", () => {
    const stmt = fc.oneof(
      fc.nat(300).map((k) => `(call $emit (call $work (i32.const ${k})) (i32.const 8))`),
      fc.nat(60).map((d) => `(call $log (i32.const 0) (call $rec (i32.const ${d})))`),
      fc
        .tuple(fc.nat(1), fc.nat(100))
        .map(([f, k]) => `(drop (call_indirect (type $t) (i32.const ${k}) (i32.const ${f})))`),
      fc
        .tuple(fc.nat(40), fc.nat(100))
        .map(
          ([d, k]) =>
            `(drop (call $input_read (i32.const 64) (call $rec (i32.const ${d})) (call $work (i32.const ${k}))))`,
        ),
      fc
        .nat(20)
        .map(
          (k) =>
            `(drop (call $state_get (i32.const 0) (i32.const 0) (i32.add (i32.const 8) (call $work (i32.const ${k}))) (i32.const 64) (i32.const 8)))`,
        ),
      fc.nat(100).map((k) => `(drop (call $work (i32.const ${k})))`),
    );
    fc.assert(
      fc.property(fc.array(stmt, { minLength: 1, maxLength: 6 }), (stmts) => {
        expectExact(stmts.join("\n"));
      }),
      { numRuns: 40 },
    );
  });
});

describe("fuel is exact for runs that trap", () => {
  // Deep enough for StackOverflow: $rec weighs 2 frame units (1 parameter) and the budget is 4,096.
  const ENDS: Record<string, string> = {
    [Trap.AppletAbort]: `(call $abort (i32.const 0) (call $work (i32.const 30)))`,
    [Trap.Unreachable]: `(if (i32.eqz (call $work (i32.const 30))) (then (drop (call $rec (i32.const 3))) unreachable))`,
    [Trap.MemoryLimit]: `(loop $g (br_if $g (i32.ge_s (memory.grow (i32.add (i32.const 1) (call $work (i32.const 9)))) (i32.const 0))))`,
    [Trap.StackOverflow]: `(drop (call $rec (i32.const 5000)))`,
    [Trap.HostError]: `(call $emit (i32.const 131072) (i32.add (i32.const 1) (call $work (i32.const 30))))`,
  };
  it("the trap comes with the fuel used up to it: N gives the same trap and journal, N − 1 traps OutOfFuel", () => {
    const before = fc.oneof(
      fc.nat(200).map((k) => `(call $emit (call $work (i32.const ${k})) (i32.const 8))`),
      fc.nat(60).map((d) => `(call $log (i32.const 0) (call $rec (i32.const ${d})))`),
    );
    fc.assert(
      fc.property(fc.array(before, { maxLength: 3 }), fc.constantFrom(...Object.keys(ENDS)), (stmts, trap) => {
        expectExact([...stmts, ENDS[trap]!].join("\n"), trap);
      }),
      { numRuns: 40 },
    );
  });
});

describe("fuel is exact for the example applets", () => {
  const applets = listApplets();
  const appEngine = new Engine();
  const device = fc.bigInt({ min: 1n, max: (1n << 254n) - 1n });
  /** One device's chain: consecutive seq, non-decreasing ts, values[0] mostly around the applets' thresholds. */
  const chain = (id: bigint) =>
    fc
      .array(fc.tuple(fc.nat(120_000), fc.bigInt({ min: -50n, max: 1_000n }), fc.bigInt({ min: 0n, max: 500n })), {
        maxLength: 40,
      })
      .map((steps) => {
        let ts = 1_764_000_000_000n;
        return steps.map(([dt, v0, v1], i): AppletReading => ({
          deviceId: id,
          seq: BigInt(i + 1),
          ts: (ts += BigInt(dt)),
          values: [v0, v1, 0n, 0n],
        }));
      });
  const input = fc.uniqueArray(device, { minLength: 1, maxLength: 4 }).chain((ids) =>
    fc.record({
      readings: fc.tuple(...ids.map(chain)).map((chains) => chains.flat()),
      epoch: fc.option(
        fc.record({
          startMs: fc.bigInt({ min: 1_763_999_000_000n, max: 1_764_001_000_000n }),
          lengthMs: fc.bigInt({ min: 1n, max: 3_600_000n }),
        }),
        { nil: undefined },
      ),
    }),
  );

  for (const a of applets) {
    it(`${a.name}: fuel N = fuelUsed finishes with the same journal and state root, N − 1 traps OutOfFuel (random epochs, 1–4 devices)`, () => {
      const module = appEngine.compile(loadBuiltApplet(a.name));
      const config = manifestConfig(a.manifest);
      fc.assert(
        fc.property(input, input, ({ readings, epoch }, second) => {
          // Two epochs in a row: the second starts from the first one's state (uptime-streak keeps a streak there).
          const first = fuelRuns(appEngine, module, { readings, epoch, config });
          const then = fuelRuns(appEngine, module, { ...second, config, state: first.free.state });
          for (const { free, exact, short, n } of [first, then]) {
            expect(free.trap).toBeNull();
            expect(outcome(exact)).toEqual(outcome(free));
            expect(short?.trap?.kind).toBe(Trap.OutOfFuel);
            expect(short?.fuelUsed).toBe(n - 1);
          }
        }),
        { numRuns: 60 },
      );
    });
  }
});

describe("call depth is its own limit, apart from fuel", () => {
  const base = frameWeight(0); // mfi_main
  const rec = frameWeight(1); // $down
  /** $down(n) recurses n times, then calls $leaf (a frame of `locals` i64 locals, calling nothing) at the bottom. */
  const module = (n: number, locals: number) =>
    engine.compile(
      appletWat({
        main: `(call $down (i32.const ${n}))`,
        extra: `(func $leaf ${"(local i64)".repeat(locals)} (local.set 0 (i64.const 1)))
          (func $down (param i32) (if (local.get 0) (then (call $down (i32.sub (local.get 0) (i32.const 1)))) (else (call $leaf))))`,
      }),
    );
  const run = (n: number, locals: number, fuel?: number) => runModule(engine, module(n, locals), { readings, fuel });

  it("fuelUsed does not depend on frame weights: the same code with heavier frames uses the same fuel", () => {
    // 1 local vs 200 (frame weight 2 vs 27): unused locals cost no fuel, and depth bookkeeping costs none either.
    expect(frameWeight(200)).toBeGreaterThan(frameWeight(1));
    expect(run(100, 200).fuelUsed).toBe(run(100, 1).fuelUsed);
    expect(run(100, 1).trap).toBeNull();
  });

  it("StackOverflow comes at the exact depth (a leaf's frame counted too), whatever fuel is left", () => {
    for (const locals of [1, 200]) {
      const most = Math.floor((STACK_BUDGET - base - frameWeight(locals)) / rec) - 1; // $down(most) has most + 1 frames
      const fits = run(most, locals);
      expect(fits.trap, `locals ${locals}`).toBeNull();
      expect(run(most, locals, fits.fuelUsed).trap).toBeNull(); // exactly its fuel: the depth limit is not looser or tighter
      const over = run(most + 1, locals);
      expect(over.trap?.kind).toBe(Trap.StackOverflow);
      const tight = run(most + 1, locals, over.fuelUsed);
      expect(outcome(tight)).toEqual(outcome(over));
      expect(run(most + 1, locals, over.fuelUsed - 1).trap?.kind).toBe(Trap.OutOfFuel);
    }
  });
});
