/**
 * What the prove queue (pg-boss.ts) and the run queue (pg-boss-run.ts) share: one pg-boss instance and a small pool on
 * the store's database, a job queue with its dead-letter queue and this process's retry settings, the NOTIFY channel
 * that wakes the queue's workers as soon as a job is queued (pg-boss only polls), and an idempotent stop.
 */
import pg from "pg";
import PgBoss from "pg-boss";
import type { PgBossQueueOptions } from "./pg-boss.ts";

export interface PgBossQueueShape {
  queue: string;
  deadLetter: string;
  /** LISTEN/NOTIFY channel that wakes the queue's workers. */
  wakeChannel: string;
  /** This queue's defaults for the options the caller leaves out. */
  defaults: { expireInSeconds: number; retryDelaySeconds: number };
  /** Connections: pg-boss's own and the pool for NOTIFY and our queries. */
  bossConnections: number;
  poolConnections: number;
}

export abstract class PgBossQueueBase {
  readonly kind = "pg-boss";
  protected readonly boss: PgBoss;
  protected readonly pool: pg.Pool;
  protected readonly o: Required<PgBossQueueOptions>;
  private listener: pg.Client | undefined;
  private readonly workerIds: string[] = [];
  private stopping: Promise<void> | undefined;

  protected constructor(
    o: PgBossQueueOptions,
    protected readonly shape: PgBossQueueShape,
  ) {
    this.o = {
      retryLimit: 3,
      maintenanceIntervalSeconds: 30,
      pollingIntervalSeconds: 2,
      ...shape.defaults,
      ...o,
    };
    this.boss = new PgBoss({
      connectionString: o.url,
      max: shape.bossConnections,
      maintenanceIntervalSeconds: this.o.maintenanceIntervalSeconds,
    });
    // pg-boss reports failed maintenance or fetches (Postgres restarting) here; they are retried on its next cycle.
    this.boss.on("error", () => {});
    this.pool = new pg.Pool({ connectionString: o.url, max: shape.poolConnections });
    this.pool.on("error", () => {});
  }

  private settings() {
    return {
      name: this.shape.queue,
      policy: "standard" as const,
      retryLimit: this.o.retryLimit,
      retryDelay: this.o.retryDelaySeconds,
      retryBackoff: true,
      expireInSeconds: this.o.expireInSeconds,
      deadLetter: this.shape.deadLetter,
    };
  }

  /**
   * Install pg-boss's schema (under its own advisory lock; the roles also take one start lock around it, leader.ts)
   * and the queues. A queue that exists keeps its settings: `configure` applies this process's.
   */
  protected async start(): Promise<void> {
    await this.boss.start();
    await this.boss.createQueue(this.shape.deadLetter, { name: this.shape.deadLetter });
    await this.boss.createQueue(this.shape.queue, this.settings());
  }

  /** Apply this process's retry limit, backoff and visibility timeout to the queue (the scheduler does). */
  async configure(): Promise<void> {
    await this.boss.updateQueue(this.shape.queue, this.settings());
  }

  /** Wake the workers of every process listening (after an insert). */
  protected async wake(): Promise<void> {
    await this.pool.query("SELECT pg_notify($1, '')", [this.shape.wakeChannel]);
  }

  /** `concurrency` pg-boss workers on the queue, woken at once by a NOTIFY instead of at their next poll. */
  protected async workQueue<T extends object>(
    concurrency: number,
    handle: (job: PgBoss.JobWithMetadata<T>) => Promise<void>,
  ): Promise<void> {
    for (let i = 0; i < concurrency; i++) {
      const id = await this.boss.work<T>(
        this.shape.queue,
        { batchSize: 1, includeMetadata: true, pollingIntervalSeconds: this.o.pollingIntervalSeconds },
        async ([job]) => {
          if (job) await handle(job);
        },
      );
      this.workerIds.push(id);
    }
    const client = new pg.Client({ connectionString: this.o.url });
    client.on("error", () => {});
    await client.connect();
    client.on("notification", () => {
      for (const id of this.workerIds) this.boss.notifyWorker(id);
    });
    await client.query(`LISTEN ${this.shape.wakeChannel}`);
    this.listener = client;
  }

  /** Jobs in the dead-letter queue (for status and tests). */
  async deadLettered(): Promise<number> {
    return this.boss.getQueueSize(this.shape.deadLetter);
  }

  /** `graceful: false` leaves jobs under way active, as a killed process would (tests of the visibility timeout). */
  stop(o: { graceful?: boolean } = {}): Promise<void> {
    // Idempotent: a role's stop and its closers may both stop the queue.
    this.stopping ??= this.stopOnce(o);
    return this.stopping;
  }

  private async stopOnce(o: { graceful?: boolean }): Promise<void> {
    await this.listener?.end().catch(() => {});
    this.listener = undefined;
    await this.boss.stop({ graceful: o.graceful ?? true, wait: true, timeout: 60_000 });
    await this.pool.end().catch(() => {});
  }
}
