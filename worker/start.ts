/**
 * `startWorker(config)`: the epoch worker with its real ports (applets in runtime/, proofs in circuits/, payments
 * through contracts/), as both the standalone process (worker/main.ts) and the devnet run it.
 */
import type { MachinefiClient } from "../contracts/index.ts";
import type { BatchStore, ReadingStore, WorkerStatus, WorkerStore } from "../store/index.ts";
import { contractsBatchChainPort } from "./batch-chain.ts";
import { circuitsBatchProverPort } from "./batch-prover.ts";
import { Batcher, type BatchEvent } from "./batcher.ts";
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
  /** How long after an epoch's end to wait for each device's chain to pass it (EpochWorker's sealTimeoutMs). */
  sealTimeoutMs?: number;
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
  /**
   * Batch claims (issue 26; off by default): applets AppletRegistry switched to `vault` are credited in batches of
   * up to `size` devices (a batch circuit for that N must be set as the vault's verifier), a smaller batch once the
   * oldest queued claim has waited `deadlineMs` (default 30 s); other applets keep single claims.
   */
  batch?: {
    vault: string;
    size: number;
    deadlineMs?: number;
    /** Slots per device of the batch circuit (default 16). */
    k?: number;
    /** Where batches are kept (openStore(…).batches: SQLite). */
    batches: BatchStore;
    onEvent?: (e: BatchEvent) => void;
  };
}

export interface RunningWorker {
  worker: EpochWorker;
  /** What the dashboard and metrics read. */
  status: WorkerStatus;
  /** The batcher, when `batch` is configured. */
  batcher?: Batcher;
  start(): void;
  /** Stop ticking, wait for proofs and submissions under way, close the prover threads. */
  stop(): Promise<void>;
}

export function startWorker(cfg: WorkerConfig): RunningWorker {
  const concurrency = cfg.proverConcurrency ?? 1;
  const prover = circuitsProvePort({ concurrency, mode: cfg.proofs ?? "groth16", log: cfg.log });
  const batchProver = cfg.batch
    ? circuitsBatchProverPort({ n: cfg.batch.size, k: cfg.batch.k, log: cfg.log })
    : undefined;
  const batcher =
    cfg.batch && batchProver
      ? new Batcher({
          store: cfg.store,
          workerStore: cfg.workerStore,
          batches: cfg.batch.batches,
          prover: batchProver,
          chain: contractsBatchChainPort(cfg.client, cfg.batch.vault),
          deadlineMs: cfg.batch.deadlineMs ?? 30_000,
          onEvent: cfg.batch.onEvent,
        })
      : undefined;
  const worker = new EpochWorker({
    store: cfg.store,
    workerStore: cfg.workerStore,
    run: runtimeRunPort(),
    prove: prover.prove,
    chain: contractsChainPort(cfg.client),
    epochMs: cfg.epochMs,
    ...(cfg.graceMs === undefined ? {} : { graceMs: cfg.graceMs }),
    ...(cfg.maxAttempts === undefined ? {} : { maxAttempts: cfg.maxAttempts }),
    ...(cfg.sealTimeoutMs === undefined ? {} : { sealTimeoutMs: cfg.sealTimeoutMs }),
    proverConcurrency: concurrency,
    onEvent: cfg.onEvent,
    ...(batcher ? { batched: batcher.isBatched } : {}),
  });
  let started = false;
  const start = () => {
    if (started) return;
    started = true;
    if (!batcher) return worker.start(cfg.intervalMs ?? 200);
    // The batcher learns which applets are batched first: none of their claims may go the single-claim way.
    const both = () => {
      worker.start(cfg.intervalMs ?? 200);
      batcher.start(Math.max(cfg.intervalMs ?? 200, 500));
    };
    batcher.refreshApplets().then(both, (err: Error) => {
      cfg.batch?.onEvent?.({
        type: "batch",
        batchId: -1,
        state: "failed",
        detail: `batch vault unreadable: ${err.message}`,
      });
      both();
    });
  };
  if (cfg.autostart ?? true) start();
  return {
    worker,
    status: cfg.workerStore,
    start,
    ...(batcher ? { batcher } : {}),
    async stop() {
      await batcher?.stop();
      await worker.stop();
      await prover.close();
      await batchProver?.close();
    },
  };
}
