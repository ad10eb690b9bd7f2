/**
 * The in-process prove queue: the single process on SQLite (`mfi worker start`, the devnet) proves through the same
 * ProveQueue interface as provers on Postgres, without a database of jobs. A crash loses the queue, not the claims:
 * they stay pending in the store and the scheduler offers them again on its next pass.
 */
import type { ClaimRow, WorkerStore } from "../../store/index.ts";
import { backoffMs } from "../backoff.ts";
import { proveJobKey, type ProveHandler, type ProveQueue } from "./types.ts";

interface Job {
  claim: ClaimRow;
  enqueuedAtMs: number;
  tries: number;
}

export class InProcessProveQueue implements ProveQueue {
  readonly kind = "in-process";
  private readonly waiting: Job[] = [];
  /** Keys queued or under way: a claim at one attempt is one job. */
  private readonly known = new Set<string>();
  private readonly running = new Set<Promise<void>>();
  private handler: ProveHandler | undefined;
  private concurrency = 0;
  private stopped = false;
  private delayed = 0;

  /**
   * `stillDue`: asked just before a job is proved; false skips it (the claim moved on while the job waited: proved by
   * another job, failed, or retried at a later attempt). Without it every job is proved (markProved ignores a claim no
   * longer pending, so a skipped check costs a wasted proof, never a wrong state).
   */
  constructor(private readonly opts: { retryLimit?: number; stillDue?: (claim: ClaimRow) => Promise<boolean> } = {}) {}

  async enqueue(claims: ClaimRow[]): Promise<void> {
    for (const claim of claims) {
      const key = proveJobKey(claim);
      if (this.known.has(key)) continue;
      this.known.add(key);
      this.waiting.push({ claim, enqueuedAtMs: Date.now(), tries: 0 });
    }
    this.drain();
  }

  async work(handler: ProveHandler, concurrency: number): Promise<void> {
    this.handler = handler;
    this.concurrency = concurrency;
    this.stopped = false;
    this.drain();
  }

  /** Jobs under way, plus those waiting or waiting to be retried unless stopped (EpochWorker.idle waits for them). */
  get busy(): number {
    return this.running.size + (this.stopped ? 0 : this.waiting.length + this.delayed);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    while (this.running.size > 0) await Promise.all([...this.running]);
  }

  private drain(): void {
    const handler = this.handler;
    if (!handler) return;
    while (!this.stopped && this.running.size < this.concurrency && this.waiting.length > 0) {
      const job = this.waiting.shift()!;
      const retryLimit = this.opts.retryLimit ?? 3;
      const stillDue = this.opts.stillDue;
      const p = (stillDue ? stillDue(job.claim) : Promise.resolve(true))
        .then((due) =>
          due ? handler(job.claim, { enqueuedAtMs: job.enqueuedAtMs, lastTry: job.tries >= retryLimit }) : undefined,
        )
        .then(
          () => {
            this.known.delete(proveJobKey(job.claim));
          },
          () => {
            // A handler that threw (its store unreachable): again after a pause, a bounded number of times.
            if (job.tries >= retryLimit) {
              this.known.delete(proveJobKey(job.claim));
              return;
            }
            job.tries++;
            this.delayed++;
            setTimeout(() => {
              this.delayed--;
              this.waiting.push(job);
              this.drain();
            }, backoffMs(job.tries)).unref();
          },
        )
        .finally(() => {
          this.running.delete(p);
          this.drain();
        });
      this.running.add(p);
    }
  }
}

/** The re-check for `stillDue`: the claim is still pending at the job's attempt (issue 23). */
export const pendingAtAttempt =
  (store: Pick<WorkerStore, "claimState">) =>
  async (claim: ClaimRow): Promise<boolean> => {
    const now = await store.claimState(claim.id);
    return now?.state === "pending" && now.attempts === claim.attempts;
  };
