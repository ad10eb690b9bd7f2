/**
 * The run queue on Postgres, with pg-boss (issue 23): queue `mfi-run`, one job per (applet, device, epoch) with a UUID
 * derived from the three, so the scheduler offering a due device-epoch on every pass, two schedulers, or one
 * restarted, insert it once (pg-boss inserts with ON CONFLICT DO NOTHING on the id). A job that failed or completed
 * keeps its id until pg-boss archives it; enqueue deletes such a job first, since the scheduler offers only
 * device-epochs without a stored run (a job completed just before is found stored by its handler: "done"). Runner processes take
 * jobs; a runner killed mid-job leaves its job active until `expireInSeconds` passes, then another runner gets it.
 * The handler is idempotent: worker_runs is unique on (applet, device, epoch) and a run, its claims and the applet's
 * new state are one transaction, so a job run twice stores one run. Jobs failing `retryLimit` times go to
 * `mfi-run-dead`: the scheduler reports them and offers the device-epoch again (workDeadLetters).
 * Why pg-boss, and the NOTIFY that wakes the runners at once: pg-boss.ts.
 */
import { PgBossQueueBase } from "./pg-boss-base.ts";
import { jobId, type PgBossQueueOptions } from "./pg-boss.ts";
import { runJobKey, type RunHandler, type RunJob, type RunQueue } from "./types.ts";

export const RUN_QUEUE = "mfi-run";
export const RUN_DEAD_LETTER = "mfi-run-dead";
const WAKE_CHANNEL = "mfi_run_jobs";

interface JobData {
  job: RunJob;
  enqueuedAtMs: number;
}

export class PgBossRunQueue extends PgBossQueueBase implements RunQueue {
  private constructor(o: PgBossQueueOptions) {
    super(o, {
      queue: RUN_QUEUE,
      deadLetter: RUN_DEAD_LETTER,
      wakeChannel: WAKE_CHANNEL,
      defaults: { expireInSeconds: 60, retryDelaySeconds: 1 },
      bossConnections: 3,
      poolConnections: 1,
    });
  }

  /** pg-boss's schema and the run queues (DDL on a first start: the roles take one start lock around it, leader.ts). */
  static async open(o: PgBossQueueOptions): Promise<PgBossRunQueue> {
    const q = new PgBossRunQueue(o);
    await q.start();
    return q;
  }

  async enqueue(jobs: RunJob[]): Promise<void> {
    if (jobs.length === 0) return;
    const now = Date.now();
    const ids = jobs.map((job) => jobId(runJobKey(job), "run"));
    // A job that failed (its dead-letter handler's delete failed too) or completed without storing a run keeps its id
    // until pg-boss archives it (12 h): the insert below would be a no-op and the epoch would stall. The scheduler
    // offers only device-epochs it found without a run, so an offer is a real retry: free the id first (a runner that
    // has just stored the run and completed the job makes the repeat a "done": runDevice finds the run).
    await this.pool.query(
      `DELETE FROM pgboss.job WHERE name = $1 AND id = ANY($2::uuid[]) AND state IN ('failed', 'completed')`,
      [RUN_QUEUE, ids],
    );
    await this.boss.insert(
      jobs.map((job, i) => ({
        id: ids[i]!,
        name: RUN_QUEUE,
        data: { job, enqueuedAtMs: now } satisfies JobData,
      })),
    );
    await this.wake();
  }

  async work(handler: RunHandler, concurrency: number): Promise<void> {
    await this.workQueue<JobData>(concurrency, (job) =>
      handler(job.data.job, { enqueuedAtMs: job.data.enqueuedAtMs, lastTry: job.retryCount >= job.retryLimit }),
    );
  }

  /**
   * Take dead-lettered run jobs (the scheduler does, to report them with the reason), and delete the failed job so
   * that its key is free: the scheduler offers the device-epoch again on a later pass (a run is never given up, as
   * in one process, where a failed run is tried again on the next tick).
   */
  async workDeadLetters(handler: (job: RunJob, reason: string) => Promise<void>): Promise<void> {
    await this.boss.work<JobData>(RUN_DEAD_LETTER, { batchSize: 1, pollingIntervalSeconds: 1 }, async ([job]) => {
      if (!job) return;
      await handler(
        job.data.job,
        `run job dead-lettered after ${this.o.retryLimit + 1} deliveries (its runners died, timed out after ${this.o.expireInSeconds} s, or failed); offered again`,
      );
      await this.boss.deleteJob(RUN_QUEUE, jobId(runJobKey(job.data.job), "run"));
    });
  }

  /** Jobs not finished yet (created, retry or active), for status and tests. */
  async pending(): Promise<number> {
    return this.boss.getQueueSize(RUN_QUEUE);
  }
}
