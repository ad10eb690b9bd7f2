/**
 * store: all persistence, behind interfaces (public surface; other layers import only this).
 *   ReadingStore — devices, append-only readings, operator API keys (the gateway writes, everyone reads)
 *   WorkerStore  — the epoch worker's applets, runs, applet state and claims (WorkerStatus: its read-only view)
 *   NonceStore   — the data market's spent request nonces
 * `openStore(path)` opens all three on one SQLite file (./sqlite/); another backend is one more folder beside it.
 */
export type {
  AppendResult,
  DeviceHead,
  DeviceRecord,
  ListDevicesQuery,
  ListReadingsQuery,
  NonceStore,
  ReadingStore,
  StoredReading,
} from "./types.ts";
export type {
  AppletSpec,
  ClaimCalldata,
  ClaimRow,
  ClaimState,
  Reducer,
  RunOutcome,
  RunRow,
  WorkerStatus,
  WorkerStore,
} from "./worker-types.ts";
export { openStore, hashApiKey, type OpenStoreOptions, type SqliteStore } from "./sqlite/open.ts";
export type { Migration } from "./sqlite/migrations.ts";
