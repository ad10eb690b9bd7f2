/**
 * runtime: the deterministic, fuel-metered Wasm sandbox for applets (public surface; other layers import only this).
 *
 *   const engine = new Engine({ fuel, memoryPages, journalBytes });
 *   const module = engine.compile(wasmBytes);                  // validate + meter; module.imageId
 *   const result = runModule(engine, module, { readings, epoch, config, state });
 *   decodeJournal(result.journal).claims                       // [{ deviceId, output }]
 *
 * The applet toolchain (manifests, asc, the test harness) is in toolchain/; it runs applets through this surface.
 */
export {
  ABI_VERSION,
  DOMAIN,
  IMPORTS,
  IMPORT_MODULE,
  INPUT,
  JOURNAL_KIND,
  ENTRY_EXPORT,
  INIT_EXPORT,
  MEMORY_EXPORT,
  MAX_STATE_KEY_BYTES,
  MAX_STATE_VALUE_BYTES,
  type ImportName,
} from "./abi.ts";
export { Engine, DEFAULT_ENGINE_CONFIG, type EngineConfig } from "./engine.ts";
export { Module } from "./module.ts";
export { Linker, HOST_FUEL } from "./linker.ts";
export { Store, type StoreOptions } from "./store.ts";
export { Instance, type RunResult } from "./instance.ts";
export { runModule, type RunOptions } from "./run.ts";
export { Trap, HostTrap, type TrapKind, type TrapInfo } from "./trap.ts";
export { encodeInput, paramConfig, WHOLE_TIME, type AppletReading, type InputEpoch } from "./input.ts";
export { decodeJournal, JournalLimitExceeded, type DecodedJournal, type JournalClaim } from "./journal.ts";
export { stateRoot, type AppletState } from "./state.ts";
export { imageIdOf, taggedDigest, toHex, leToU256 } from "./digest.ts";
export { validateModule, type ModuleInfo } from "./validate.ts";
export { FUEL_COSTS, IF_FOLD, DEFAULT_COST } from "./fuel.ts";
export { RuntimeBaseError, ValidationError, RuntimeInputError, type ValidationCode } from "./errors.ts";
export { functionNames, functionNamesFromText, withSourceNames } from "./names.ts";
export { MeterError } from "./errors.ts";
