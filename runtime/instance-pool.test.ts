/** A reused instance must be indistinguishable from a new one: no byte, global or size of an earlier run survives. */
import { describe, expect, it } from "vitest";
import { Engine } from "./engine.ts";
import { encodeInput } from "./input.ts";
import { Instance, type RunResult } from "./instance.ts";
import { idleInstanceBytes, setIdleInstanceLimit, takeInstance } from "./instance-pool.ts";
import { Linker } from "./linker.ts";
import { loadBuiltApplet } from "../toolchain/index.ts";
import type { Module } from "./module.ts";
import { runModule, type RunOptions } from "./run.ts";
import { Store } from "./store.ts";
import { appletWat } from "./wat.ts";

// Emits what a new instance starts with (two mutable globals, a data segment, a word far from it, memory.size),
// then changes all of them; `after` may trap, loop or grow the memory once the changes are made.
const probe = (after = "", fields = "") =>
  appletWat({
    memory: "1 4",
    extra: `
      (global $g (mut i64) (i64.const 0x0123456789abcdef))
      (global $h (mut i32) (i32.const 7))
      (data (i32.const 100) "seed")
      (func $emit8 (param $v i64) (i64.store (i32.const 200) (local.get $v)) (call $emit (i32.const 200) (i32.const 8)))
      ${fields}`,
    main: `
      (call $emit8 (global.get $g))
      (call $emit8 (i64.extend_i32_u (global.get $h)))
      (call $emit (i32.const 100) (i32.const 4))
      (call $emit8 (i64.load (i32.const 40000)))
      (call $emit8 (i64.extend_i32_u (memory.size)))
      (global.set $g (i64.const -1))
      (global.set $h (i32.const 99))
      (i32.store (i32.const 100) (i32.const 0x58585858))
      (i64.store (i32.const 40000) (i64.const 0x1122334455667788))
      (i64.store (i32.const 200) (i64.const 0x5a5a5a5a5a5a5a5a))
      ${after}`,
  });

const SAME = (r: RunResult) => ({
  journal: Buffer.from(r.journal).toString("hex"),
  fuelUsed: r.fuelUsed,
  trap: r.trap,
  stateRoot: r.stateRoot,
  inputDigest: r.inputDigest,
});

/** The run a brand-new Engine (new Module, so certainly a new instance) gives. */
function fresh(wasm: Uint8Array, opts: RunOptions): ReturnType<typeof SAME> {
  const engine = new Engine({ fuel: 5_000 });
  return SAME(runModule(engine, engine.compile(wasm), opts));
}

describe("instance pool", () => {
  it("reuses an instance after a run, reset to exactly what a new instance starts with", () => {
    const engine = new Engine({ fuel: 5_000 });
    const wasm = probe();
    const module = engine.compile(wasm);
    const linker = new Linker();
    const run = () =>
      Instance.instantiate(module, new Store(engine, { input: encodeInput({ readings: [] }) }), linker).run();
    const first = run();
    expect(first.trap).toBeNull();
    const p = takeInstance(module, linker);
    expect(p).toBeDefined();
    expect(takeInstance(module, linker)).toBeUndefined();
    // Hand it back through a run, then check every later run against a new instance.
    Instance.instantiate(module, new Store(engine, { input: encodeInput({ readings: [] }) }), linker).dispose();
    for (let i = 0; i < 4; i++) expect(SAME(run())).toEqual(fresh(wasm, { readings: [] }));
  });

  it("runs after trapped, exhausted and grown runs of the same Module start clean", () => {
    const engine = new Engine({ fuel: 5_000 });
    const variants = {
      plain: probe(),
      unreachable: probe("(unreachable)"),
      outOfFuel: probe("(loop $l (br $l))"),
      grows: probe("(drop (memory.grow (i32.const 2)))"),
      recursion: probe("(call $deep)", "(func $deep (call $deep))"),
    };
    const modules = Object.fromEntries(Object.entries(variants).map(([k, w]) => [k, engine.compile(w)])) as Record<
      keyof typeof variants,
      Module
    >;
    const want = Object.fromEntries(Object.entries(variants).map(([k, w]) => [k, fresh(w, { readings: [] })]));
    expect(want.unreachable!.trap?.kind).toBe("Unreachable");
    expect(want.outOfFuel!.trap?.kind).toBe("OutOfFuel");
    expect(want.recursion!.trap?.kind).toMatch(/StackOverflow|OutOfFuel/);
    const order: (keyof typeof variants)[] = [
      "plain",
      "unreachable",
      "unreachable",
      "plain",
      "outOfFuel",
      "outOfFuel",
      "grows",
      "grows",
      "recursion",
      "recursion",
      "plain",
    ];
    for (const k of order) expect(SAME(runModule(engine, modules[k], { readings: [] })), k).toEqual(want[k]);
  });

  it("never reuses an instance of a Module with passive data (data.drop would carry over)", () => {
    const wasm = appletWat({
      memory: "1 2",
      extra: `(data $p "passive!")`,
      main: `(memory.init $p (i32.const 300) (i32.const 0) (i32.const 8)) (data.drop $p) (call $emit (i32.const 300) (i32.const 8))`,
    });
    const engine = new Engine({ fuel: 5_000 });
    const module = engine.compile(wasm);
    expect(module.info.passiveData).toBe(true);
    const linker = new Linker();
    for (let i = 0; i < 3; i++) {
      const r = Instance.instantiate(module, new Store(engine, { input: encodeInput({ readings: [] }) }), linker).run();
      expect(r.trap).toBeNull();
      expect(SAME(r)).toEqual(fresh(wasm, { readings: [] }));
      expect(takeInstance(module, linker)).toBeUndefined();
    }
  });

  it("the example applets give byte-identical results on reused and new instances, state carried across epochs", () => {
    const readings = (epoch: number) =>
      Array.from({ length: 30 }, (_, i) => ({
        deviceId: 1000n + BigInt(i % 3),
        seq: BigInt(epoch * 100 + i),
        ts: BigInt(epoch * 60_000 + i * 1000),
        values: [BigInt((i * 37) % 90), 1n],
      }));
    for (const name of ["energy-sum", "threshold-alert", "uptime-streak"]) {
      const wasm = loadBuiltApplet(name);
      const engine = new Engine();
      const module = engine.compile(wasm);
      let state: RunOptions["state"];
      let freshState: RunOptions["state"];
      for (let e = 0; e < 4; e++) {
        const epoch = { startMs: BigInt(e * 60_000), lengthMs: 60_000n };
        const input = encodeInput({ readings: readings(e), epoch, config: new Uint8Array(8).fill(e === 2 ? 0 : 1) });
        const reused = runModule(engine, module, { input, state });
        const other = new Engine();
        const brandNew = runModule(other, other.compile(wasm), { input, state: freshState });
        expect(reused.trap, name).toBeNull();
        expect(SAME(reused), `${name} epoch ${e}`).toEqual(SAME(brandNew));
        expect(reused.state).toEqual(brandNew.state);
        state = reused.state;
        freshState = brandNew.state;
      }
    }
  });

  it("keeps the idle instances' memories under the limit, and runs the same with reuse off", () => {
    const engine = new Engine({ fuel: 5_000 });
    const linker = new Linker();
    // Ten distinct Modules (their data differs) with 4-page memories: 256 KiB each idle instance.
    const modules = Array.from({ length: 10 }, (_, i) =>
      engine.compile(
        appletWat({
          memory: "4 4",
          extra: `(data (i32.const 8) "m${i}")`,
          main: `(call $emit (i32.const 8) (i32.const 2))`,
        }),
      ),
    );
    const before = setIdleInstanceLimit(idleInstanceBytes().bytes + 3 * 4 * 65536);
    try {
      const runs = () =>
        modules.map((m) =>
          Buffer.from(
            Instance.instantiate(m, new Store(engine, { input: encodeInput({ readings: [] }) }), linker).run().journal,
          ).toString(),
        );
      const first = runs();
      expect(idleInstanceBytes().bytes).toBeLessThanOrEqual(idleInstanceBytes().limit);
      expect(modules.filter((m) => takeInstance(m, linker)).length).toBe(3);
      setIdleInstanceLimit(0);
      expect(runs()).toEqual(first);
      expect(modules.filter((m) => takeInstance(m, linker)).length).toBe(0);
      expect(first.map((j) => j.slice(-2))).toEqual(modules.map((_, i) => `m${i}`));
    } finally {
      setIdleInstanceLimit(before);
    }
  });
});
