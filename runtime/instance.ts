/**
 * Instance: one instantiation of a Module in a Store, and the run that turns it into a RunResult.
 * Every way a run can end is mapped here to either a result or a trap inside the result; only host bugs throw.
 */
import { DOMAIN, ENTRY_EXPORT, INIT_EXPORT, MEMORY_EXPORT } from "./abi.ts";
import { taggedDigest } from "./digest.ts";
import type { Module } from "./module.ts";
import { Linker } from "./linker.ts";
import { TRAP_CODE, TRAP_GLOBAL, fuelCell } from "./fuel.ts";
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
  private constructor(
    readonly module: Module,
    readonly store: Store,
    private readonly exports: WebAssembly.Exports,
  ) {}

  static instantiate(module: Module, store: Store, linker: Linker = defaultLinker): Instance {
    const wasm = new WebAssembly.Instance(module.compiled, linker.imports(store));
    store.memory = wasm.exports[MEMORY_EXPORT] as WebAssembly.Memory;
    store.fuelGlobal = fuelCell(wasm.exports);
    return new Instance(module, store, wasm.exports);
  }

  /** Run `_initialize` (if exported) then `mfi_main`. Call once. */
  run(): RunResult {
    const { store } = this;
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
  if (fuelLeft < 0n) return { kind: Trap.OutOfFuel, message: `out of fuel (limit ${limit})` };
  if (err instanceof RangeError && /call stack/i.test(err.message)) return { kind: Trap.StackOverflow, message: "the call stack is exhausted (unbounded recursion?)" };
  if (err instanceof WebAssembly.RuntimeError) return { kind: Trap.Unreachable, message: err.message };
  return { kind: Trap.HostError, message: `host error: ${(err as Error)?.message ?? String(err)}` };
}
