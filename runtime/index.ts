/**
 * runtime: the deterministic, fuel-metered Wasm sandbox for applets (public surface; other layers import only this).
 *
 *   const engine = new Engine({ fuel, memoryPages, journalBytes });
 *   const module = engine.compile(wasmBytes);                  // validate + meter; module.imageId
 *   const result = runModule(engine, module, { readings, epoch, config, state });
 *   decodeJournal(result.journal).claims                       // [{ deviceId, output }]
 *
 * or, from a test: `await runApplet({ applet: "energy-sum", readings })`; in a worker with a watchdog: `runInWorker`.
 */
export { ABI_VERSION, DOMAIN, IMPORTS, IMPORT_MODULE, INPUT, JOURNAL_KIND, ENTRY_EXPORT } from "./abi.ts";
export { Engine, DEFAULT_ENGINE_CONFIG, type EngineConfig } from "./engine.ts";
export { Module } from "./module.ts";
export { Linker, HOST_FUEL } from "./linker.ts";
export { Store, type StoreOptions } from "./store.ts";
export { Instance, type RunResult } from "./instance.ts";
export { runModule, type RunOptions } from "./run.ts";
export { WorkerRunner } from "./worker.ts";
export { Trap, type TrapKind, type TrapInfo } from "./trap.ts";
export { encodeInput, paramConfig, WHOLE_TIME, type AppletReading, type InputEpoch } from "./input.ts";
export { decodeJournal, type DecodedJournal, type JournalClaim } from "./journal.ts";
export { stateRoot, type AppletState } from "./state.ts";
export { imageIdOf, taggedDigest } from "./digest.ts";
export { validateModule, type ModuleInfo } from "./validate.ts";
export { FUEL_COSTS, IF_FOLD, DEFAULT_COST } from "./fuel.ts";
export { RuntimeBaseError, ValidationError, RuntimeInputError, CompileError, ManifestError, type ValidationCode } from "./errors.ts";
export { compileApplet, type CompileOptions } from "./compile.ts";
export { loadAppletManifest, listApplets, manifestConfig, referenceClaims, APPLETS_DIR, APPLET_BUILD_DIR, type AppletManifest, type AppletEntry, type Reducer } from "./applets.ts";
export { runApplet, loadBuiltApplet, type RunAppletOptions, type AppletRunResult } from "./harness.ts";
export { parseReadingsJson, toJsonText } from "./readings-json.ts";
