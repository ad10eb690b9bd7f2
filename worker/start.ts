/**
 * `startWorker(config)`: the epoch worker with its real ports (applets in runtime/, proofs in circuits/, payments
 * through contracts/), as both the standalone process (worker/main.ts) and the devnet run it.
 */
import type { MachinefiClient } from "../contracts/index.ts";
import type { ReadingStore, WorkerStatus, WorkerStore } from "../store/index.ts";
import { contractsChainPort } from "./chain-port.ts";
import { circuitsProvePort } from "./prover-port.ts";
import { runtimeRunPort } from "./runtime-port.ts";
import { EpochWorker, type WorkerEvent } from "./worker.ts";

export interface WorkerConfig {
  /** The readings and devices the worker runs applets on. */
  store: ReadingStore;
  /** Its applets, runs and claims (openStore(…).worker on SQLite). */
  workerStore: WorkerStore;
  /** Pays the claims: a client whose key sends PayoutVault.claim. */
  client: MachinefiClient;
  /** Epoch length for applets without an on-chain schedule, and the grace after an epoch's end (ms). */
  epochMs: number;
  graceMs?: number;
  maxAttempts?: number;
  /** Proofs at once (each on its own thread). */
  proverConcurrency?: number;
  /** "mock" skips the Groth16 step (devnet --mock-proofs); default real proofs. */
  proofs?: "groth16" | "mock";
  onEvent?: (e: WorkerEvent) => void;
  /** Start the tick loop now (default true); false leaves it to `start()`, e.g. after applets are added. */
  autostart?: boolean;
  /** Tick interval in ms (default 200). */
  intervalMs?: number;
  /** Progress of a first compile of an applet's circuit (tens of seconds, once per applet and K). */
  log?: (m: string) => void;
}

export interface RunningWorker {
  worker: EpochWorker;
  /** What the dashboard and metrics read. */
  status: WorkerStatus;
  start(): void;
  /** Stop ticking, wait for proofs and submissions under way, close the prover threads. */
  stop(): Promise<void>;
}

export function startWorker(cfg: WorkerConfig): RunningWorker {
  const concurrency = cfg.proverConcurrency ?? 1;
  const prover = circuitsProvePort({ concurrency, mode: cfg.proofs ?? "groth16", log: cfg.log });
  const worker = new EpochWorker({
    store: cfg.store,
    workerStore: cfg.workerStore,
    run: runtimeRunPort(),
    prove: prover.prove,
    chain: contractsChainPort(cfg.client),
    epochMs: cfg.epochMs,
    ...(cfg.graceMs === undefined ? {} : { graceMs: cfg.graceMs }),
    ...(cfg.maxAttempts === undefined ? {} : { maxAttempts: cfg.maxAttempts }),
    proverConcurrency: concurrency,
    onEvent: cfg.onEvent,
  });
  let started = false;
  const start = () => {
    if (started) return;
    started = true;
    worker.start(cfg.intervalMs ?? 200);
  };
  if (cfg.autostart ?? true) start();
  return {
    worker,
    status: cfg.workerStore,
    start,
    async stop() {
      await worker.stop();
      await prover.close();
    },
  };
}
