/**
 * Instance: one instantiation of a Module in a Store, and the run that turns it into a RunResult.
 * Every way a run can end is mapped here to either a result or a trap inside the result; only host bugs throw.
 */
import { DOMAIN, ENTRY_EXPORT, INIT_EXPORT } from "./abi.ts";
import { taggedDigest } from "./digest.ts";
import { RuntimeInputError } from "./errors.ts";
import { giveMemory, takeMemory } from "./memory-pool.ts";
import type { Module } from "./module.ts";
import { Linker } from "./linker.ts";
import { STACK_BUDGET, TRAP_CODE, TRAP_GLOBAL, fuelCell } from "./fuel.ts";
import { stateRoot, type AppletState } from "./state.ts";
import type { Store } from "./store.ts";
import { HostTrap, Trap, type TrapInfo } from "./trap.ts";

export interface RunResult {
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
  private memory: WebAssembly.Memory | null;

  private constructor(
    readonly module: Module,
    readonly store: Store,
    private readonly linker: Linker,
    private readonly exports: WebAssembly.Exports,
  ) {
    this.memory = store.memory;
  }

  static instantiate(module: Module, store: Store, linker: Linker = defaultLinker): Instance {
    const { memoryMinPages: min, memoryMaxPages: max } = module.info;
    // If instantiation throws, the memory may hold part of the data segments: it is simply not returned.
    const memory = takeMemory(min, max);
    const wasm = new WebAssembly.Instance(module.compiled, linker.imports(store, memory));
    store.memory = memory;
    store.fuelGlobal = fuelCell(wasm.exports);
    return new Instance(module, store, linker, wasm.exports);
  }

  /** Give the memory back to the pool without running (run() does this itself). */
  dispose(): void {
    const m = this.memory;
    if (!m) return;
    this.memory = null;
    this.store.memory = null;
    giveMemory(m, this.module.info.memoryMinPages, this.module.info.memoryMaxPages);
  }

  /** Run `_initialize` (if exported) then `mfi_main`. Call once: the memory goes back to the pool at the end. */
  run(): RunResult {
    const { store } = this;
    if (!this.memory) throw new RuntimeInputError("Instance.run was called twice", { details: "an Instance runs once (its memory went back to the pool); instantiate the Module again for another run" });
    this.linker.bind(store);
    const fuel = store.fuelGlobal!;
    const trapGlobal = this.exports[TRAP_GLOBAL] as WebAssembly.Global;
    fuel.value = BigInt(store.fuelLimit);
    let trap: TrapInfo | null = null;
    try {
      if (this.module.info.hasInit) (this.exports[INIT_EXPORT] as () => void)();
      (this.exports[ENTRY_EXPORT] as () => void)();
      if ((fuel.value as bigint) < 0n) trap = { kind: Trap.OutOfFuel, message: `out of fuel (limit ${store.fuelLimit})` };
    } catch (err) {
      trap = classify(err, fuel.value as bigint, trapGlobal.value as number, store.fuelLimit);
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

function classify(err: unknown, fuelLeft: bigint, trapCode: number, limit: number): TrapInfo {
  if (err instanceof HostTrap) return { kind: err.kind, message: err.message };
  if (trapCode === TRAP_CODE.memoryLimit) return { kind: Trap.MemoryLimit, message: "memory.grow asked for more pages than the applet's memory maximum" };
  if (trapCode === TRAP_CODE.stackOverflow) return { kind: Trap.StackOverflow, message: `the call depth went over the budget of ${STACK_BUDGET} frame units (unbounded recursion?)` };
  if (fuelLeft < 0n) return { kind: Trap.OutOfFuel, message: `out of fuel (limit ${limit})` };
  if (err instanceof RangeError && /call stack/i.test(err.message)) return { kind: Trap.StackOverflow, message: "the call stack is exhausted (unbounded recursion?)" };
  if (err instanceof WebAssembly.RuntimeError) return { kind: Trap.Unreachable, message: err.message };
  return { kind: Trap.HostError, message: `host error: ${(err as Error)?.message ?? String(err)}` };
}
