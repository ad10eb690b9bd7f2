/**
 * Instance: one instantiation of a Module in a Store, and the run that turns it into a RunResult.
 * Every way a run can end is mapped here to either a result or a trap inside the result; only host bugs throw.
 */
import { runningFunction } from "./names.ts";
import { DOMAIN, ENTRY_EXPORT, INIT_EXPORT } from "./abi.ts";
import { taggedDigest } from "./digest.ts";
import { RuntimeInputError } from "./errors.ts";
import { giveMemory, takeMemory } from "./memory-pool.ts";
import type { Module } from "./module.ts";
import { Linker } from "./linker.ts";
import { STACK_BUDGET, TRAP_CODE, TRAP_GLOBAL } from "./fuel.ts";
import { adopt, giveInstance, takeInstance, type PooledInstance } from "./instance-pool.ts";
import { stateRoot, type AppletState } from "./state.ts";
import type { Store } from "./store.ts";
import { HostTrap, Trap, type TrapInfo } from "./trap.ts";

export interface RunResult {
  /** The module's imageId, hex without 0x (`imageIdHex`; `parseImageId` gives the ImageId). */
  imageId: string;
  inputDigest: string;
  /** Journal bytes (abi.ts JOURNAL); a trapped run keeps only its logs. */
  journal: Uint8Array;
  journalDigest: string;
  fuelUsed: number;
  stateRoot: string;
  /** The state after the run (unchanged when the run trapped). */
  state: AppletState;
  trap: TrapInfo | null;
}

const defaultLinker = new Linker();

export class Instance {
  private pooled: PooledInstance | null;

  private constructor(
    readonly module: Module,
    readonly store: Store,
    private readonly linker: Linker,
    pooled: PooledInstance,
  ) {
    this.pooled = pooled;
  }

  /** An instance of `module` for one run in `store`: an idle one reset to its initial state (instance-pool.ts), or a new one. */
  static instantiate(module: Module, store: Store, linker: Linker = defaultLinker): Instance {
    let p = takeInstance(module, linker);
    if (!p) {
      // If instantiation throws, the memory may hold part of the data segments: it is simply not returned.
      const memory = takeMemory(module.info.memoryMinPages, module.info.memoryMaxPages);
      p = adopt(module, new WebAssembly.Instance(module.compiled, linker.imports(store, memory)), memory);
    }
    store.memory = p.memory;
    store.fuelGlobal = p.fuel;
    return new Instance(module, store, linker, p);
  }

  /** End the instance's use without running (run() does this itself): it goes back to the pool, or its memory does. */
  dispose(): void {
    const p = this.pooled;
    if (!p) return;
    this.pooled = null;
    this.store.memory = null;
    if (!giveInstance(this.module, this.linker, p))
      giveMemory(p.memory, this.module.info.memoryMinPages, this.module.info.memoryMaxPages);
  }

  /** Run `_initialize` (if exported) then `mfi_main`. Call once: the instance goes back to the pool at the end. */
  run(): RunResult {
    const { store } = this;
    const p = this.pooled;
    if (!p)
      throw new RuntimeInputError("Instance.run was called twice", {
        details: "an Instance runs once (it went back to the pool); instantiate the Module again for another run",
      });
    this.linker.bind(store);
    const fuel = p.fuel;
    const exports = p.wasm.exports;
    const trapGlobal = exports[TRAP_GLOBAL] as WebAssembly.Global;
    fuel.value = BigInt(store.fuelLimit);
    let trap: TrapInfo | null = null;
    try {
      if (this.module.info.hasInit) (exports[INIT_EXPORT] as () => void)();
      (exports[ENTRY_EXPORT] as () => void)();
      if ((fuel.value as bigint) < 0n)
        trap = { kind: Trap.OutOfFuel, message: `out of fuel (limit ${store.fuelLimit})` };
    } catch (err) {
      trap = classify(
        this.module.wasm,
        err,
        fuel.value as bigint,
        trapGlobal.value as number,
        store.fuelLimit,
        this.module.info.memoryMaxPages,
      );
    }
    const left = fuel.value as bigint;
    const fuelUsed = trap?.kind === Trap.OutOfFuel || left < 0n ? store.fuelLimit : store.fuelLimit - Number(left);
    const journal = store.journal.finish(trap !== null);
    const state = trap ? store.baseState : store.state.commit();
    this.dispose();
    return {
      imageId: this.module.imageId,
      inputDigest: store.inputDigest,
      journal,
      journalDigest: taggedDigest(DOMAIN.journal, journal),
      fuelUsed,
      stateRoot: stateRoot(state),
      state,
      trap,
    };
  }
}

function classify(
  original: Uint8Array,
  err: unknown,
  fuelLeft: bigint,
  trapCode: number,
  limit: number,
  maxPages: number,
): TrapInfo {
  // A run that went over its fuel traps OutOfFuel, whatever stopped it after that (a host refusal, the depth limit
  // at the same entry, a trap in an if-arm whose charge no test had seen yet): so with fuel N − 1 every run whose
  // fuelUsed is N traps OutOfFuel, as docs/fuel.md states.
  if (err instanceof HostTrap && (err.kind === Trap.OutOfFuel || fuelLeft >= 0n))
    return { kind: err.kind, message: err.message };
  if (fuelLeft < 0n)
    return { kind: Trap.OutOfFuel, message: `out of fuel (limit ${limit})${runningFunction(err, original)}` };
  if (trapCode === TRAP_CODE.memoryLimit)
    return {
      kind: Trap.MemoryLimit,
      message: `memory.grow went past the applet's memory maximum of ${maxPages} pages (${(maxPages * 65536).toLocaleString("en-US")} bytes): use less memory, or raise the maximum (asc --maximumMemory) up to the engine's cap`,
    };
  if (trapCode === TRAP_CODE.stackOverflow)
    return {
      kind: Trap.StackOverflow,
      message: `the call depth went over the budget of ${STACK_BUDGET} frame units (unbounded recursion?)`,
    };
  if (err instanceof RangeError && /call stack/i.test(err.message))
    return { kind: Trap.StackOverflow, message: "the call stack is exhausted (unbounded recursion?)" };
  if (err instanceof WebAssembly.RuntimeError) return { kind: Trap.Unreachable, message: err.message };
  return { kind: Trap.HostError, message: `host error: ${(err as Error)?.message ?? String(err)}` };
}
