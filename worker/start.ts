/**
 * `startWorker(config)`: the epoch worker with its real ports (applets in runtime/, proofs in circuits/, payments
 * through contracts/), as both the standalone process (worker/main.ts) and the devnet run it.
 */
import type { MachinefiClient } from "../contracts/index.ts";
import type { WarmReport } from "../circuits/index.ts";
import type { BatchStore, ReadingStore, WorkerStatus, WorkerStore } from "../store/index.ts";
import { contractsBatchChainPort } from "./batch-chain.ts";
import { circuitsBatchProverPort } from "./batch-prover.ts";
import { Batcher, type BatchEvent } from "./batcher.ts";
import { contractsChainPort } from "./chain-port.ts";
import { circuitsProvePort } from "./prover-port.ts";
import { runtimeRunPort } from "./runtime-port.ts";
import { Engine } from "../runtime/index.ts";
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
  /**
   * Warms the prover pool with the applets in the store now (issue 25: processes started and self-checked, the
   * applets' keys read; only what is not warm yet) and resolves when it is warm; undefined with mock proofs. It also
   * runs by itself at construction, at start() and every 30 s (applets added since).
   */
  proverWarm(): Promise<WarmReport | undefined>;
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
  // The applets' runtime; its modules (validated, metered, compiled: ~0.3 s for energy-sum) are compiled at warm-up
  // too, so the first epoch closed after start does not pay that either.
  const engine = new Engine();
  const worker = new EpochWorker({
    store: cfg.store,
    workerStore: cfg.workerStore,
    run: runtimeRunPort(engine),
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
  // Issue 25: warm the prover pool in the background when the worker starts (never delays it): its processes start
  // and self-check and read the keys of the applets in the store; again every 30 s (applets added since: only new
  // circuits are read) and whenever proverWarm() is called (the devnet, after registering its applets). A claim that
  // comes first waits for its process. A worker built and never started (tests driving EpochWorker) stays cold.
  const mock = (cfg.proofs ?? "groth16") === "mock";
  let warming: Promise<WarmReport | undefined> = Promise.resolve(undefined);
  let warmLogged = false;
  let warmingSaid = false;
  let rewarm: ReturnType<typeof setInterval> | undefined;
  const warmProver = () => {
    if (mock) return warming;
    if (!warmingSaid && (warmingSaid = true))
      cfg.log?.(`prover pool warming: ${concurrency} proving process(es) starting, applet keys loading`);
    warming = cfg.workerStore
      .listApplets()
      .then((list) => {
        const specs = list.filter((a) => !a.quarantined).map((a) => a.spec);
        for (const spec of specs)
          try {
            engine.compile(spec.wasm);
          } catch {
            // refused: the run port quarantines it with the reason at its first run
          }
        return prover.warm(specs);
      })
      .then(
        (r) => {
          if (r && !r.closed && (r.loaded.length || r.skipped.length || !warmLogged)) {
            warmLogged = true;
            cfg.log?.(
              `prover pool warm in ${(r.sinceStartMs / 1000).toFixed(1)} s: ${r.processes} ${r.backend} process(es), ${r.keysPerProcess} key(s) held (${(r.bytesPerProcess / 2 ** 20).toFixed(0)} MB per process of ${(r.budgetPerProcess / 2 ** 20).toFixed(0)} MB)${r.skipped.length ? `, ${r.skipped.length} not held (over budget or unreadable: read at their first proof)` : ""}`,
            );
          }
          return r;
        },
        (err: Error) => {
          cfg.log?.(`⚠ prover pool warm-up failed (proofs start cold): ${err.message}`);
          return undefined;
        },
      );
    return warming;
  };
  let started = false;
  const start = () => {
    if (started) return;
    started = true;
    void warmProver();
    if (!mock) (rewarm = setInterval(() => void warmProver(), 30_000)).unref();
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
    proverWarm: warmProver,
    async stop() {
      if (rewarm) clearInterval(rewarm);
      await batcher?.stop();
      await worker.stop();
      await prover.close();
      await batchProver?.close();
    },
  };
}
