/**
 * The worker's roles as processes (issue 23), each an EpochWorker given only the ports its role uses:
 * - scheduler: closes epochs, runs the applets (the runner is part of it: a run is milliseconds of Wasm, so a separate
 *   runner process would add a queue hop per device-epoch for nothing) and enqueues a prove job per claim; exactly one
 *   is active, by a leader lock; it also marks dead-lettered prove jobs' claims failed with the reason.
 * - prover: takes prove jobs from the queue; any number, on any machine.
 * - submitter: pays proved claims on L1 from one key; exactly one active (one nonce manager), by its own leader lock;
 *   several ready at once go out in one PayoutVault.claimBatch (claim-batch.ts).
 * `mfi worker start` (worker/start.ts) stays the all-in-one process: the same EpochWorker with an in-process queue.
 */
import type { ReadingStore, WorkerStore } from "../../store/index.ts";
import type { ChainPort, ProvePort } from "../ports.ts";
import type { ProveQueue } from "../queue/index.ts";
import { runtimeRunPort } from "../runtime-port.ts";
import { EpochWorker, type WorkerEvent } from "../worker.ts";
import { submitBatches, type ClaimBatchPort } from "./claim-batch.ts";
import type { LeaderLock } from "./leader.ts";
import { noChain, noProve, noRun } from "./ports.ts";

export type RoleEvent =
  | WorkerEvent
  | { type: "leader"; role: string; state: "standby" | "active" | "lost"; detail?: string }
  | { type: "job"; claimId: number; attempts: number; queueMs: number };

interface RoleBase {
  store: ReadingStore;
  workerStore: WorkerStore;
  onEvent?: (e: RoleEvent) => void;
  intervalMs?: number;
}

export interface RunningRole {
  /** Stop taking work, wait for the work under way, release the lock. */
  stop(): Promise<void>;
}

/** Loop `pass` every `intervalMs` while holding `lock`; back to standby when the lock is lost. */
function leaderLoop(
  role: string,
  lock: LeaderLock,
  intervalMs: number,
  pass: () => Promise<void>,
  onEvent?: (e: RoleEvent) => void,
): RunningRole {
  let stopped = false;
  let running: Promise<void> = Promise.resolve();
  const life = async () => {
    while (!stopped) {
      onEvent?.({ type: "leader", role, state: "standby" });
      let lost = false;
      try {
        await lock.acquire((reason) => {
          lost = true;
          onEvent?.({ type: "leader", role, state: "lost", detail: reason });
        });
      } catch {
        return; // released while waiting: stopping
      }
      if (stopped) break;
      onEvent?.({ type: "leader", role, state: "active" });
      while (!stopped && !lost) {
        running = pass().catch((err: Error) =>
          onEvent?.({ type: "claim", claimId: -1, state: "failed", detail: `${role} pass failed: ${err.message}` }),
        );
        await running;
        await new Promise((r) => setTimeout(r, intervalMs));
      }
    }
  };
  const done = life();
  return {
    async stop() {
      stopped = true;
      await lock.release();
      await running;
      await done;
    },
  };
}

export function runScheduler(
  o: RoleBase & { queue: ProveQueue; lock: LeaderLock; epochMs: number; graceMs?: number; maxAttempts?: number },
): RunningRole {
  const worker = new EpochWorker({
    store: o.store,
    workerStore: o.workerStore,
    run: runtimeRunPort(),
    prove: noProve("scheduler"),
    chain: noChain("scheduler"),
    epochMs: o.epochMs,
    ...(o.graceMs === undefined ? {} : { graceMs: o.graceMs }),
    ...(o.maxAttempts === undefined ? {} : { maxAttempts: o.maxAttempts }),
    proveQueue: o.queue,
    onEvent: o.onEvent,
  });
  return leaderLoop(
    "scheduler",
    o.lock,
    o.intervalMs ?? 100,
    async () => {
      await worker.closeEpochs();
      await worker.startProofs();
    },
    o.onEvent,
  );
}

export async function runProver(
  o: RoleBase & { queue: ProveQueue; prove: ProvePort; concurrency: number; maxAttempts?: number },
): Promise<RunningRole> {
  const worker = new EpochWorker({
    store: o.store,
    workerStore: o.workerStore,
    run: noRun("prover"),
    prove: o.prove,
    chain: noChain("prover"),
    epochMs: 1,
    ...(o.maxAttempts === undefined ? {} : { maxAttempts: o.maxAttempts }),
    proverConcurrency: o.concurrency,
    proveQueue: o.queue,
    onEvent: o.onEvent,
  });
  await o.queue.work(async (claim, info) => {
    o.onEvent?.({ type: "job", claimId: claim.id, attempts: claim.attempts, queueMs: Date.now() - info.enqueuedAtMs });
    // proveClaim records every failure on the claim (retry with backoff, or failed with the reason): it never throws.
    await worker.proveClaim(claim);
  }, o.concurrency);
  return {
    async stop() {
      await o.queue.stop();
      await worker.idle();
    },
  };
}

/** `batch`: several proved claims at once go out in one claimBatch transaction (claim-batch.ts); the rest one by one. */
export function runSubmitter(
  o: RoleBase & { chain: ChainPort; lock: LeaderLock; maxAttempts?: number; batch?: ClaimBatchPort },
): RunningRole {
  const worker = new EpochWorker({
    store: o.store,
    workerStore: o.workerStore,
    run: noRun("submitter"),
    prove: noProve("submitter"),
    chain: o.chain,
    epochMs: 1,
    ...(o.maxAttempts === undefined ? {} : { maxAttempts: o.maxAttempts }),
    onEvent: o.onEvent,
  });
  const pass = async () => {
    if (o.batch)
      await submitBatches({ workerStore: o.workerStore, chain: o.chain, batch: o.batch, onEvent: o.onEvent });
    await worker.submitDue();
  };
  return leaderLoop("submitter", o.lock, o.intervalMs ?? 100, pass, o.onEvent);
}
