/**
 * store: all persistence, behind interfaces (public surface; other layers import only this).
 *   ReadingStore — devices, append-only readings, operator API keys (the gateway writes, everyone reads)
 *   WorkerStore  — the epoch worker's applets, runs, applet state and claims (WorkerStatus: its read-only view)
 *   NonceStore   — the data market's spent request nonces
 * `openStore(location)` opens all three on one SQLite file (./sqlite/), synchronously; `openStoreAsync(location)` opens
 * either that or, for a postgres:// URL, a Postgres database (./postgres/) that several processes may share.
 */
import { openSqliteStore, type OpenStoreOptions } from "./sqlite/open.ts";
import type { OpenPgStoreOptions } from "./postgres/open.ts";
import type { StoreSet } from "./types.ts";

export type {
  AppendResult,
  DeviceHead,
  DeviceRecord,
  ListDevicesQuery,
  ListReadingsQuery,
  NonceStore,
  ReadingStore,
  StoreSet,
  StoredReading,
} from "./types.ts";
export type {
  AppletSpec,
  AppletSummary,
  PaidActivity,
  ProveHistogram,
  WorkerTotals,
  ClaimCalldata,
  ClaimRow,
  ClaimState,
  Reducer,
  RunOutcome,
  RunRow,
  WorkerApplet,
  WorkerStatus,
  WorkerStore,
} from "./worker-types.ts";
export type { BatchRow, BatchState, BatchStore, QueuedClaim } from "./batch-types.ts";
export { hashApiKey, type OpenStoreOptions } from "./sqlite/open.ts";
export { BatchClaimTakenError, StoreError, StoreUnavailableError } from "./errors.ts";
export type { Migration } from "./sqlite/migrations.ts";
export type { OpenPgStoreOptions } from "./postgres/open.ts";
export type { PgMigration } from "./postgres/migrations.ts";

/** Open (creating if needed) the stores at `location`: a SQLite file path, or ":memory:" for a throwaway set. */
export function openStore(location: string, opts: OpenStoreOptions = {}): StoreSet {
  return openSqliteStore(location, opts);
}

/** Whether `location` names a Postgres database (postgres:// or postgresql://) rather than a SQLite file. */
export const isPostgresUrl = (location: string): boolean => /^postgres(ql)?:\/\//i.test(location);

/**
 * Open the stores at `location`: a postgres:// URL (migrated on open, shared by any number of processes), or a SQLite
 * file path, optionally written `sqlite:<path>`. `opts.postgres` applies to Postgres only, the rest to SQLite only.
 */
export async function openStoreAsync(
  location: string,
  opts: OpenStoreOptions & { postgres?: OpenPgStoreOptions } = {},
): Promise<StoreSet> {
  // Loaded on demand: SQLite-only processes (and the CLI's start-up) never load the Postgres client.
  if (isPostgresUrl(location)) return (await import("./postgres/open.ts")).openPostgresStore(location, opts.postgres);
  const { postgres: _pg, ...sqlite } = opts;
  return openSqliteStore(location.replace(/^sqlite:(\/\/)?/i, ""), sqlite);
}
