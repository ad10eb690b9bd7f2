/**
 * worker: the epoch worker (public surface; other layers import only this). It closes each applet's epochs, runs
 * the applet on every device's readings (runtime/), proves each claim (circuits/) and pays it (contracts/).
 *
 *   const w = startWorker({ store, workerStore: store.worker, client, epochMs });   // ... await w.stop()
 *
 * serveWorker opens its own store and chain client around startWorker: the standalone process (worker/main.ts,
 * `mfi worker start`) beside a gateway on the same database.
 */
export { startWorker, type WorkerConfig, type RunningWorker } from "./start.ts";
export { serveWorker, eventLine, type ServeWorkerOptions, type ServedWorker } from "./serve.ts";
export { EpochWorker, type WorkerEvent, type WorkerOptions } from "./worker.ts";
export type {
  AppletSpec,
  ChainPort,
  PaidResult,
  ProveArgs,
  ProvePort,
  ProvedClaim,
  Reducer,
  RunOutcome,
  RunPort,
} from "./ports.ts";
export { contractsChainPort } from "./chain-port.ts";
export { alignToSchedule } from "./epochs.ts";
export { circuitsProvePort, appletCircuits, APPLET_SIZES, type ProverHandle } from "./prover-port.ts";
export { runtimeRunPort, encodeState, decodeState } from "./runtime-port.ts";
export { replayRun, ReplayError, type ReplayReport } from "./replay.ts";
export {
  WorkerError,
  ProofRefusedError,
  AlreadyClaimedError,
  AppletLoadError,
  ChainReadError,
  BatchVerifierMismatchError,
} from "./errors.ts";
export { Batcher, type BatchEvent, type BatcherOptions } from "./batcher.ts";
export { contractsBatchChainPort, type BatchChainPort } from "./batch-chain.ts";
export { circuitsBatchProverPort, type BatchProverPort } from "./batch-prover.ts";
