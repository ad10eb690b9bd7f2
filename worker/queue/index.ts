/** The prove queue (issue 23): one interface, in-process for SQLite, pg-boss for Postgres. */
export type { ProveHandler, ProveJobInfo, ProveQueue, RunHandler, RunJob, RunJobInfo, RunQueue } from "./types.ts";
export { proveJobKey, runJobKey } from "./types.ts";
export { InProcessProveQueue, pendingAtAttempt } from "./memory.ts";
export { PgBossProveQueue, PROVE_DEAD_LETTER, PROVE_QUEUE, type PgBossQueueOptions } from "./pg-boss.ts";
export { PgBossRunQueue, RUN_DEAD_LETTER, RUN_QUEUE } from "./pg-boss-run.ts";
