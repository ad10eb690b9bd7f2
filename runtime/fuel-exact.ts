/**
 * Test support: the fuel rule of docs/fuel.md, "a run with fuel N finishes iff N ≥ its fuelUsed", checked on one
 * input. Used by runtime/fuel.test.ts and test/attacks/fuel.ts (real modules, real runs; no timing involved).
 */
import type { Engine } from "./engine.ts";
import type { RunResult } from "./instance.ts";
import type { Module } from "./module.ts";
import { runModule, type RunOptions } from "./run.ts";

/** What a test compares between runs: everything a run commits to. */
export function outcome(r: RunResult) {
  return {
    journal: Buffer.from(r.journal).toString("hex"),
    stateRoot: r.stateRoot,
    fuelUsed: r.fuelUsed,
    trap: r.trap,
  };
}

/**
 * Runs `module` with plenty of fuel (N = its fuelUsed), then with exactly N and with N − 1. A faithful meter gives
 * `exact` the same outcome as `free` and `short` an OutOfFuel trap with fuelUsed N − 1.
 */
export function fuelRuns(engine: Engine, module: Module, opts: Omit<RunOptions, "fuel">) {
  const free = runModule(engine, module, opts);
  const n = free.fuelUsed;
  const exact = runModule(engine, module, { ...opts, fuel: n });
  const short = n > 1 ? runModule(engine, module, { ...opts, fuel: n - 1 }) : null;
  return { n, free, exact, short };
}
