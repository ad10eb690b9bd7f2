/**
 * store: all persistence, behind interfaces (public surface; other layers import only this).
 *   ReadingStore — devices, append-only readings, operator API keys (the gateway writes, everyone reads)
 *   WorkerStore  — the epoch worker's applets, runs, applet state and claims (WorkerStatus: its read-only view)
 *   NonceStore   — the data market's spent request nonces
 * `openStore(location)` opens all three on one database (a StoreSet); today that is a SQLite file (./sqlite/). Another
 * backend is one more folder beside ./sqlite/ implementing these interfaces, and one more case in `openStore`.
 */
import { openSqliteStore, type OpenStoreOptions } from "./sqlite/open.ts";
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
  WorkerStatus,
  WorkerStore,
} from "./worker-types.ts";
export { hashApiKey, type OpenStoreOptions } from "./sqlite/open.ts";
export type { Migration } from "./sqlite/migrations.ts";

/** Open (creating if needed) the stores at `location`: a SQLite file path, or ":memory:" for a throwaway set. */
export function openStore(location: string, opts: OpenStoreOptions = {}): StoreSet {
  return openSqliteStore(location, opts);
}
