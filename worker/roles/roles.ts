/**
 * The worker's roles as processes (issue 23), each an EpochWorker given only the ports its role uses:
 * - scheduler: decides what is due: closes epochs, enqueues a run job per sealed (applet, device, epoch) and a prove
 *   job per due claim (retries included); exactly one is active, by a leader lock; it also marks dead-lettered prove
 *   jobs' claims failed with the reason. It never runs an applet.
 * - runner: takes run jobs, runs the applet in the sandbox, stores the run and its claims (one transaction, unique per
 *   (applet, device, epoch): a job taken twice stores one run) and enqueues the claims' prove jobs; any number.
 * - prover: takes prove jobs from the queue; any number, on any machine.
 * - submitter: pays proved claims on L1 from one key; exactly one active (one nonce manager), by its own leader lock;
 *   several ready at once go out in one PayoutVault.claimBatch (claim-batch.ts).
 * `mfi worker start` (worker/start.ts) stays the all-in-one process: the same EpochWorker with an in-process queue.
 */
import { unpackEpoch } from "../../device-sdk/index.ts";
import type { ReadingStore, WorkerStore } from "../../store/index.ts";
import { AppletLoadError } from "../errors.ts";
import type { ChainPort, ProvePort, RunPort } from "../ports.ts";
import { runJobKey, type ProveQueue, type RunQueue } from "../queue/index.ts";
import { runtimeRunPort } from "../runtime-port.ts";
import { EpochWorker, waitReason, type WorkerEvent } from "../worker.ts";
import { submitBatches, type ClaimBatchPort } from "./claim-batch.ts";
import type { LeaderLock } from "./leader.ts";
import { noChain, noProve, noRun, readOnly } from "./ports.ts";

export type RoleEvent =
  | WorkerEvent
  | { type: "leader"; role: string; state: "standby" | "active" | "lost"; detail?: string }
  | { type: "job"; claimId: number; attempts: number; queueMs: number }
  // issue 23: a runner took a run job; `ran` false: the run was already stored (by another runner) or nothing to run
  | { type: "run-job"; imageId: string; deviceId: string; epoch: string; queueMs: number }
  | { type: "runs-queued"; imageId: string; epoch: string; devices: number };

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
  o: RoleBase & {
    queue: ProveQueue;
    /** Absent: the scheduler runs the applets itself (the prove benches, where runs are not what is measured). */
    runQueue?: RunQueue;
    /** Chain reads (device keys, applet states: issue 18); it never sends. Absent: none. */
    chain?: ChainPort;
    lock: LeaderLock;
    epochMs: number;
    graceMs?: number;
    maxAttempts?: number;
  },
): RunningRole {
  // A pass offers each due device-epoch until its run is stored; a job once inserted is durable (pg-boss), so this
  // process offers it again only after a minute (a dead-lettered job is deleted to make room for that; a standby taking
  // over offers at once: the job's key makes a repeat a no-op).
  const q = o.runQueue;
  const offered = new Map<string, number>();
  const runQueue: RunQueue | undefined = q && {
    kind: q.kind,
    enqueue: async (jobs) => {
      const now = Date.now();
      const fresh = jobs.filter((j) => now - (offered.get(runJobKey(j)) ?? -Infinity) > 60_000);
      if (fresh.length === 0) return;
      await q.enqueue(fresh);
      for (const j of fresh) offered.set(runJobKey(j), now);
      if (offered.size > 100_000) for (const [k, t] of offered) if (now - t > 60_000) offered.delete(k);
      o.onEvent?.({ type: "runs-queued", imageId: fresh[0]!.imageId, epoch: fresh[0]!.epoch, devices: fresh.length });
    },
    work: (h, c) => q.work(h, c),
    stop: () => q.stop(),
  };
  const worker = new EpochWorker({
    store: o.store,
    workerStore: o.workerStore,
    run: runQueue ? noRun("scheduler") : runtimeRunPort(),
    ...(runQueue ? { runQueue } : {}),
    prove: noProve("scheduler"),
    chain: readOnly(o.chain, "scheduler"),
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

/**
 * Take run jobs: run the applet over the device's readings of the epoch (runDevice: the seal checked again, the run,
 * its claims and the applet's new state stored in one transaction, a run already stored left alone), then enqueue
 * prove jobs for due claims. A runner killed before its transaction commits stored nothing; its job is taken again
 * once the queue's visibility timeout passes. Killed after it: the job taken again finds the run stored, and the
 * scheduler's pass enqueues the claims' prove jobs if this runner did not.
 */
export async function runRunner(
  o: RoleBase & { runQueue: RunQueue; proveQueue: ProveQueue; concurrency: number; run?: RunPort; chain?: ChainPort },
): Promise<RunningRole> {
  const worker = new EpochWorker({
    store: o.store,
    workerStore: o.workerStore,
    run: o.run ?? runtimeRunPort(),
    prove: noProve("runner"),
    chain: readOnly(o.chain, "runner"),
    epochMs: 1,
    proveQueue: o.proveQueue,
    onEvent: o.onEvent,
  });
  // Prove jobs for the new claims: one startProofs at a time, again once if runs finished meanwhile.
  let enqueuing: Promise<void> | undefined;
  let again = false;
  const enqueueProofs = async (): Promise<void> => {
    if (enqueuing) {
      again = true;
      return enqueuing;
    }
    enqueuing = (async () => {
      do {
        again = false;
        await worker.startProofs();
      } while (again);
    })().finally(() => (enqueuing = undefined));
    return enqueuing;
  };
  await o.runQueue.work(async (job, info) => {
    o.onEvent?.({ type: "run-job", ...job, queueMs: Date.now() - info.enqueuedAtMs });
    const applet = await o.workerStore.getApplet(job.imageId);
    if (!applet) return; // gone from the store: nothing to run
    try {
      const r = await worker.runDevice(applet, unpackEpoch(BigInt(job.epoch)), BigInt(job.deviceId));
      // The run is stored: a failed enqueue is left to the scheduler's next pass, not a reason to retry the job.
      if (r.kind === "ran") await enqueueProofs().catch(() => {});
    } catch (err) {
      if (err instanceof AppletLoadError)
        await worker.quarantine(err); // the scheduler then skips it
      else throw err; // retried with backoff by the queue
    }
  }, o.concurrency);
  return {
    async stop() {
      await o.runQueue.stop();
      await enqueuing?.catch(() => {});
    },
  };
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
    if (o.batch && !worker.waitingForChain())
      await submitBatches({ workerStore: o.workerStore, chain: o.chain, batch: o.batch, onEvent: o.onEvent }).catch(
        (err: unknown) => {
          // not the claims' fault (the chain cannot be reached, no gas money): submitDue meets it too, holds the
          // claims without failing them and says so once
          if (!waitReason(err)) throw err;
        },
      );
    await worker.submitDue();
  };
  return leaderLoop("submitter", o.lock, o.intervalMs ?? 100, pass, o.onEvent);
}
