/** The fuel table and the names the metering pass adds to a module (published in docs/fuel.md). */
import { RuntimeInputError } from "./errors.ts";

/** Fuel per instruction, by binaryen expression kind. Anything not listed costs DEFAULT_COST. */
export const FUEL_COSTS = {
  block: 0,
  nop: 0,
  unreachable: 0,
  loop: 1,
  if: 1,
  br: 1,
  const: 1,
  "local.get/set": 1,
  "global.get/set": 1,
  "unary/binary": 1,
  "div/rem": 4,
  "load/store": 2,
  select: 1,
  drop: 1,
  return: 1,
  call: 5,
  call_indirect: 10,
  "memory.size": 1,
  "memory.grow": 1000,
  "memory.copy/fill/init": 50,
} as const;
export const DEFAULT_COST = 1;
/** If-arms at or below this cost are charged (as the larger arm) with the enclosing region. */
export const IF_FOLD = 8;

export const FUEL_GLOBAL = "__mfi_fuel";
export const TRAP_GLOBAL = "__mfi_trap";
/** Exported by the metered module: sets every mutable global back to its initial value (instance-pool.ts). */
export const RESET_EXPORT = "__mfi_reset";
/** The metered module imports its (only) memory from here, so the runtime can recycle memories (memory-pool.ts). */
export const MEMORY_IMPORT = { module: "__mfi", name: "memory" } as const;
/** Values of the trap global: why the metered code executed `unreachable`. */
export const TRAP_CODE = { none: 0, memoryLimit: 2, stackOverflow: 3 } as const;

/**
 * Call depth, counted by the metered code itself so StackOverflow happens at the same call on every host (the V8
 * stack depends on the embedder, the thread and what is below the entry). Each function weighs an estimate of its
 * frame in 64-byte units, 1 + ceil((params + locals) / 8); a call that would take the total above STACK_BUDGET traps.
 * 4,096 units ≈ 256 KiB of frames by the estimate: far inside Node's default stack (~984 KiB) even for
 * spill-heavy frames, so the host stack is never what runs out.
 */
export const STACK_BUDGET = 4096;
export function frameWeight(paramsAndLocals: number): number {
  // A frame heavier than the whole budget traps on entry anyway; the cap keeps the depth global far from wrapping.
  return Math.min(STACK_BUDGET + 1, 1 + Math.ceil(paramsAndLocals / 8));
}

/**
 * Fuel and depth are counted apart: fuel in FUEL_GLOBAL (remaining units, negative once exhausted; inside a metered
 * function it travels in a parameter, see meter.ts) and depth in DEPTH_GLOBAL (frame units in use). No fuel is
 * charged for depth and the depth limit does not look at fuel, so a run's fuelUsed is the same whatever its depth
 * and StackOverflow comes at the same call whatever fuel is left.
 */
export const DEPTH_GLOBAL = "__mfi_depth";
/** The most fuel a run can have: 2^49 - 1 ≈ 5.6·10^14 (days of compute; the default budget per run is 10^8). */
export const MAX_FUEL = Number((1n << 49n) - 1n);
/** A fuel budget a run can have is an integer from 1 to MAX_FUEL; anything else is a RuntimeInputError. */
export function checkFuelBudget(fuel: number): void {
  if (!Number.isSafeInteger(fuel) || fuel <= 0 || fuel > MAX_FUEL)
    throw new RuntimeInputError(`fuel must be an integer from 1 to ${MAX_FUEL} (MAX_FUEL), got ${fuel}`);
}

/** The host's handle on a metered instance's fuel counter (exported as __mfi_fuel_get / _set / _charge). */
export interface FuelCell {
  /** Remaining fuel (negative once exhausted). */
  value: bigint;
  /** Take `units` of fuel for host work; true if the fuel is now exhausted. */
  charge(units: number): boolean;
}

export function fuelCell(exports: WebAssembly.Exports): FuelCell {
  const get = exports[FUEL_GLOBAL + "_get"] as () => bigint;
  const set = exports[FUEL_GLOBAL + "_set"] as (v: bigint) => void;
  const charge = exports[FUEL_GLOBAL + "_charge"] as (units: number) => number;
  return {
    get value() {
      return get();
    },
    set value(v: bigint) {
      set(v);
    },
    charge: (units) => charge(units) !== 0,
  };
}
