/**
 * The prove queue: a job per claim, taken by any number of provers. Two implementations of one interface:
 * `InProcessProveQueue` (memory.ts) for the single process on SQLite, and `PgBossProveQueue` (pg-boss.ts) for
 * provers on many machines sharing a Postgres. The claim row stays the truth (its state, attempts and backoff,
 * `failed` with the reason as the dead-letter state); a job only carries a claim to a prover, so a job delivered
 * twice is harmless: a handler that finds its claim no longer pending at the job's attempt does nothing.
 */
import type { ClaimRow } from "../../store/index.ts";

export interface ProveJobInfo {
  /** When the claim was enqueued (ms since the epoch), to measure the queue's overhead. */
  enqueuedAtMs: number;
  /** True on the job's last delivery: a handler that fails now should mark the claim failed with the reason. */
  lastTry: boolean;
}

export type ProveHandler = (claim: ClaimRow, info: ProveJobInfo) => Promise<void>;

export interface ProveQueue {
  /** Which implementation ("in-process" or "pg-boss"), for logs and the ready line. */
  readonly kind: string;
  /**
   * A prove job per claim, keyed by (claim id, attempts): a claim already queued or under way at that attempt is not
   * queued again, so the scheduler may offer every due claim on every pass.
   */
  enqueue(claims: ClaimRow[]): Promise<void>;
  /** Take jobs, at most `concurrency` at once, each handed to `handler`; a handler that throws is retried with backoff. */
  work(handler: ProveHandler, concurrency: number): Promise<void>;
  /** Stop taking jobs and wait for the handlers under way; then release connections. */
  stop(): Promise<void>;
}

/** The job's key: the same claim at the same attempt is one job. */
export const proveJobKey = (claim: Pick<ClaimRow, "id" | "attempts">): string => `${claim.id}:${claim.attempts}`;

/**
 * A run job (issue 23): run one applet over one device's readings of one closed epoch. The scheduler decides what is
 * due and enqueues these; runner processes take them. Strings, not bigints: jobs travel as JSON.
 */
export interface RunJob {
  imageId: string;
  deviceId: string;
  /** The packed epoch (device-sdk packEpoch), as stored in worker_runs.epoch. */
  epoch: string;
}

export interface RunJobInfo {
  enqueuedAtMs: number;
  /** True on the job's last delivery. */
  lastTry: boolean;
}

export type RunHandler = (job: RunJob, info: RunJobInfo) => Promise<void>;

export interface RunQueue {
  readonly kind: string;
  /**
   * A run job per (applet, device, epoch): one already queued, under way or done is not queued again, so the scheduler
   * may offer every due device-epoch on every pass, and two schedulers (or one restarted) never enqueue it twice.
   */
  enqueue(jobs: RunJob[]): Promise<void>;
  /** Take jobs, at most `concurrency` at once; a handler that throws is retried with backoff. */
  work(handler: RunHandler, concurrency: number): Promise<void>;
  stop(): Promise<void>;
}

/** The run job's key: one job per (applet, device, epoch), as worker_runs is unique on them. */
export const runJobKey = (j: Pick<RunJob, "imageId" | "deviceId" | "epoch">): string =>
  `${j.imageId}:${j.deviceId}:${j.epoch}`;
