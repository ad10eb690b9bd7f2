/** The epoch worker: closes epochs, runs applets, proves and pays claims. */
export { EpochWorker, workerMigrations, type WorkerEvent, type WorkerOptions } from "./worker.ts";
export type { AppletSpec, ChainPort, PaidResult, ProveArgs, ProvePort, ProvedClaim, Reducer, RunOutcome, RunPort } from "./ports.ts";
export type { ClaimRow, ClaimState, RunRow } from "./schema.ts";
export { WorkerStore } from "./store.ts";
export { replayRun, ReplayError, type ReplayReport } from "./replay.ts";
