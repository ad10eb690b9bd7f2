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
import pg from "pg";
import PgBoss from "pg-boss";
import type { ClaimRow } from "../../store/index.ts";
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

export class PgBossProveQueue implements ProveQueue {
  readonly kind = "pg-boss";
  private readonly boss: PgBoss;
  private readonly pool: pg.Pool;
  private listener: pg.Client | undefined;
  private readonly workerIds: string[] = [];
  private readonly o: Required<PgBossQueueOptions>;

  private constructor(o: PgBossQueueOptions) {
    this.o = {
      expireInSeconds: 300,
      retryLimit: 3,
      retryDelaySeconds: 2,
      maintenanceIntervalSeconds: 30,
      pollingIntervalSeconds: 2,
      ...o,
    };
    this.boss = new PgBoss({
      connectionString: o.url,
      max: 4,
      maintenanceIntervalSeconds: this.o.maintenanceIntervalSeconds,
    });
    // pg-boss reports failed maintenance or fetches (Postgres restarting) here; they are retried on its next cycle.
    this.boss.on("error", () => {});
    this.pool = new pg.Pool({ connectionString: o.url, max: 2 });
    this.pool.on("error", () => {});
  }

  /** Install pg-boss's schema (under its own advisory lock: several processes may start at once) and the queues. */
  static async open(o: PgBossQueueOptions): Promise<PgBossProveQueue> {
    const q = new PgBossProveQueue(o);
    await q.boss.start();
    await q.boss.createQueue(PROVE_DEAD_LETTER, { name: PROVE_DEAD_LETTER });
    await q.boss.createQueue(PROVE_QUEUE, {
      name: PROVE_QUEUE,
      policy: "standard",
      retryLimit: q.o.retryLimit,
      retryDelay: q.o.retryDelaySeconds,
      retryBackoff: true,
      expireInSeconds: q.o.expireInSeconds,
      deadLetter: PROVE_DEAD_LETTER,
    });
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
    await this.pool.query("SELECT pg_notify($1, '')", [WAKE_CHANNEL]);
  }

  async work(handler: ProveHandler, concurrency: number): Promise<void> {
    for (let i = 0; i < concurrency; i++) {
      const id = await this.boss.work<JobData>(
        PROVE_QUEUE,
        { batchSize: 1, includeMetadata: true, pollingIntervalSeconds: this.o.pollingIntervalSeconds },
        async ([job]) => {
          if (!job) return;
          const { claim, enqueuedAtMs } = job.data;
          // Idempotent: the claim moved on (proved by another prover whose job expired, retried, failed): nothing to do.
          if (!(await this.stillPending(claim))) return;
          await handler(claim, { enqueuedAtMs, lastTry: job.retryCount >= job.retryLimit });
        },
      );
      this.workerIds.push(id);
    }
    // Wake the workers as soon as a job is queued instead of at their next poll.
    const client = new pg.Client({ connectionString: this.o.url });
    client.on("error", () => {});
    await client.connect();
    client.on("notification", () => {
      for (const id of this.workerIds) this.boss.notifyWorker(id);
    });
    await client.query(`LISTEN ${WAKE_CHANNEL}`);
    this.listener = client;
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

  /** Apply this process's retry limit, backoff and visibility timeout to the queue (the scheduler's settings win). */
  async configure(): Promise<void> {
    await this.boss.updateQueue(PROVE_QUEUE, {
      name: PROVE_QUEUE,
      policy: "standard",
      retryLimit: this.o.retryLimit,
      retryDelay: this.o.retryDelaySeconds,
      retryBackoff: true,
      expireInSeconds: this.o.expireInSeconds,
      deadLetter: PROVE_DEAD_LETTER,
    });
  }

  /** Jobs in the dead-letter queue (for status and tests). */
  async deadLettered(): Promise<number> {
    return this.boss.getQueueSize(PROVE_DEAD_LETTER);
  }

  /** `graceful: false` leaves jobs under way active, as a killed process would (tests of the visibility timeout). */
  stop(o: { graceful?: boolean } = {}): Promise<void> {
    // Idempotent: a role's stop and its closers may both stop the queue.
    this.stopping ??= this.stopOnce(o);
    return this.stopping;
  }

  private stopping: Promise<void> | undefined;

  private async stopOnce(o: { graceful?: boolean }): Promise<void> {
    await this.listener?.end().catch(() => {});
    this.listener = undefined;
    await this.boss.stop({ graceful: o.graceful ?? true, wait: true, timeout: 60_000 });
    await this.pool.end().catch(() => {});
  }
}
