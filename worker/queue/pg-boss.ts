/**
 * The prove queue on Postgres, with pg-boss (10.x). Why pg-boss and not graphile-worker: a killed prover's job must
 * go to another prover within a bound we choose, and pg-boss expires an active job after its queue's
 * `expireInSeconds` (our visibility timeout) and retries it, while graphile-worker keeps a crashed worker's job locked
 * for a fixed 4 hours; pg-boss also has per-queue retry limits with exponential backoff and a dead-letter queue, and
 * 10.x runs on Node 20 (the project's floor; graphile-worker 0.17+ and pg-boss 11+ want Node 22). Its one weakness
 * here, polling (0.5 s at best), is covered by a NOTIFY after each enqueue that wakes the provers' fetch at once.
 *
 * Jobs: queue `mfi-prove`, one job per (claim, attempt) with a UUID derived from both, so offering the same claim on
 * every scheduler pass inserts it once (pg-boss inserts with ON CONFLICT DO NOTHING). Jobs that fail `retryLimit`
 * times go to `mfi-prove-dead`, and the claim is marked failed with the reason (the claim row's dead-letter state).
 */
import { createHash } from "node:crypto";
import type { ClaimRow } from "../../store/index.ts";
import { PgBossQueueBase } from "./pg-boss-base.ts";
import { proveJobKey, type ProveHandler, type ProveQueue } from "./types.ts";

export const PROVE_QUEUE = "mfi-prove";
export const PROVE_DEAD_LETTER = "mfi-prove-dead";
const WAKE_CHANNEL = "mfi_prove_jobs";

export interface PgBossQueueOptions {
  /** postgres://… of the store's database (pg-boss keeps its tables in schema `pgboss` there). */
  url: string;
  /** Visibility timeout: an active job not finished after this many seconds is retried by another prover. */
  expireInSeconds?: number;
  /** Deliveries after the first before a job is dead-lettered. */
  retryLimit?: number;
  /** First retry delay (s); doubled each retry (pg-boss's retryBackoff, with jitter). */
  retryDelaySeconds?: number;
  /** How often this process expires stalled jobs and archives old ones (pg-boss maintenance), in seconds. */
  maintenanceIntervalSeconds?: number;
  /** Fallback polling when no NOTIFY arrives (seconds, ≥ 0.5). */
  pollingIntervalSeconds?: number;
}

interface JobData {
  claim: ClaimRow;
  enqueuedAtMs: number;
}

/** A UUID (v5 layout) from the job's key: the same claim at the same attempt (a run: device-epoch) is the same job id. */
export function jobId(key: string, kind: "prove" | "run" = "prove"): string {
  const h = createHash("sha256").update(`mfi.${kind}-job.v1:${key}`).digest("hex");
  const variant = ((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export class PgBossProveQueue extends PgBossQueueBase implements ProveQueue {
  private constructor(o: PgBossQueueOptions) {
    super(o, {
      queue: PROVE_QUEUE,
      deadLetter: PROVE_DEAD_LETTER,
      wakeChannel: WAKE_CHANNEL,
      defaults: { expireInSeconds: 300, retryDelaySeconds: 2 },
      bossConnections: 4,
      poolConnections: 2,
    });
  }

  static async open(o: PgBossQueueOptions): Promise<PgBossProveQueue> {
    const q = new PgBossProveQueue(o);
    await q.start();
    return q;
  }

  async enqueue(claims: ClaimRow[]): Promise<void> {
    if (claims.length === 0) return;
    const now = Date.now();
    await this.boss.insert(
      claims.map((claim) => ({
        id: jobId(proveJobKey(claim)),
        name: PROVE_QUEUE,
        data: { claim, enqueuedAtMs: now } satisfies JobData,
      })),
    );
    await this.wake();
  }

  async work(handler: ProveHandler, concurrency: number): Promise<void> {
    await this.workQueue<JobData>(concurrency, async (job) => {
      const { claim, enqueuedAtMs } = job.data;
      // Idempotent: the claim moved on (proved by another prover whose job expired, retried, failed): nothing to do.
      if (!(await this.stillPending(claim))) return;
      await handler(claim, { enqueuedAtMs, lastTry: job.retryCount >= job.retryLimit });
    });
  }

  /** The claim is pending at the job's attempt (else the job is stale: a repeat is harmless and does nothing). */
  private async stillPending(claim: ClaimRow): Promise<boolean> {
    const r = await this.pool.query<{ state: string; attempts: number }>(
      "SELECT state, attempts FROM worker_claims WHERE id = $1",
      [claim.id],
    );
    const row = r.rows[0];
    return row !== undefined && row.state === "pending" && row.attempts === claim.attempts;
  }

  /**
   * Take dead-lettered jobs (the scheduler does): `handler` marks the claim failed with the reason, so the claim row
   * says why it stopped; the job then completes.
   */
  async workDeadLetters(handler: (claim: ClaimRow, reason: string) => Promise<void>): Promise<void> {
    await this.boss.work<JobData>(PROVE_DEAD_LETTER, { batchSize: 1, pollingIntervalSeconds: 1 }, async ([job]) => {
      if (!job) return;
      if (!(await this.stillPending(job.data.claim))) return; // it moved on (proved after all): nothing to mark
      await handler(
        job.data.claim,
        `prove job dead-lettered after ${this.o.retryLimit + 1} deliveries (its provers died, timed out after ${this.o.expireInSeconds} s, or failed)`,
      );
    });
  }
}
