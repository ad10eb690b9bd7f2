/**
 * worker: the epoch worker (public surface; other layers import only this). It closes each applet's epochs, runs
 * the applet on every device's readings (runtime/), proves each claim (circuits/) and pays it (contracts/).
 *
 *   const w = startWorker({ store, workerStore: store.worker, client, epochMs });   // ... await w.stop()
 */
export { startWorker, type WorkerConfig, type RunningWorker } from "./start.ts";
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
export { circuitsProvePort, type ProverHandle } from "./prover-port.ts";
export { runtimeRunPort, encodeState, decodeState } from "./runtime-port.ts";
export { replayRun, ReplayError, type ReplayReport } from "./replay.ts";
export { WorkerError, ProofRefusedError, AlreadyClaimedError } from "./errors.ts";
