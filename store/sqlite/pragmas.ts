/**
 * Connection settings every connection to a store file shares (the store's own and its writer thread's), so that no
 * connection checkpoints on a schedule the others do not expect.
 */
import type Database from "better-sqlite3";

/**
 * WAL pages before a commit checkpoints them into the database file (SQLite's default is 1,000). A checkpoint copies
 * the newest version of each page the WAL holds, and single-reading ingest rewrites the same few hundred pages (each
 * active device's last leaf in `readings` and in its ts index) in every group commit: at 1,000 pages a checkpoint
 * every ~30 groups wrote those pages again and again, ~25 CPU-µs of the writer thread's ~100 per reading
 * (gateway/mqtt/bench.ts). At 10,000 each hot page is copied a tenth as often; the WAL file grows to ~40 MB and stays
 * at that size (it is reused, not truncated). Every connection gets the same value: a connection whose commit finds
 * the WAL past its own threshold runs the checkpoint itself, and on the store's own connection that would be the
 * event loop.
 */
export const WAL_AUTOCHECKPOINT_PAGES = 10_000;

export function configureConnection(db: Database.Database, synchronous: string): void {
  db.pragma("journal_mode = WAL");
  db.pragma(`synchronous = ${synchronous}`);
  db.pragma("busy_timeout = 5000");
  db.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
}
