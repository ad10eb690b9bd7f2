/**
 * The worker's own tables, beside the gateway's readings. Claims move pending → proved → submitted → paid | failed;
 * every transition is one transaction so a SIGKILL leaves each claim in exactly one state.
 */
import type Database from "better-sqlite3";

const MIGRATIONS: string[] = [
  `CREATE TABLE IF NOT EXISTS worker_applets (
     image_id TEXT PRIMARY KEY,
     name TEXT NOT NULL,
     wasm BLOB NOT NULL,
     manifest TEXT NOT NULL,
     cursor_ms INTEGER NOT NULL,            -- start of the next epoch to close
     added_at_ms INTEGER NOT NULL
   )`,
  `CREATE TABLE IF NOT EXISTS worker_state (
     image_id TEXT NOT NULL,
     device_id TEXT NOT NULL,
     state BLOB NOT NULL,
     state_root TEXT NOT NULL,
     PRIMARY KEY (image_id, device_id)
   )`,
  `CREATE TABLE IF NOT EXISTS worker_runs (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     image_id TEXT NOT NULL,
     device_id TEXT NOT NULL,
     epoch TEXT NOT NULL,
     from_seq INTEGER NOT NULL,
     to_seq INTEGER NOT NULL,
     reading_count INTEGER NOT NULL,
     state_before BLOB,
     input_digest TEXT NOT NULL,
     journal BLOB NOT NULL,
     journal_digest TEXT NOT NULL,
     fuel_used INTEGER NOT NULL,
     state_root TEXT NOT NULL,
     trap TEXT,
     created_at_ms INTEGER NOT NULL,
     UNIQUE (image_id, device_id, epoch)
   )`,
  `CREATE TABLE IF NOT EXISTS worker_claims (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     run_id INTEGER NOT NULL REFERENCES worker_runs(id),
     image_id TEXT NOT NULL,
     device_id TEXT NOT NULL,
     epoch TEXT NOT NULL,
     output TEXT NOT NULL,
     state TEXT NOT NULL CHECK (state IN ('pending','proved','submitted','paid','failed')),
     attempts INTEGER NOT NULL DEFAULT 0,
     next_attempt_at_ms INTEGER NOT NULL DEFAULT 0,
     receipt TEXT,
     tx_hash TEXT,
     reward TEXT,
     gas_used INTEGER,
     error TEXT,
     prove_ms INTEGER,
     created_at_ms INTEGER NOT NULL,
     updated_at_ms INTEGER NOT NULL,
     UNIQUE (image_id, device_id, epoch)
   )`,
  `CREATE INDEX IF NOT EXISTS worker_claims_state ON worker_claims (state, next_attempt_at_ms)`,
];

export function migrateWorker(db: Database.Database): void {
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = FULL");
  db.exec("CREATE TABLE IF NOT EXISTS worker_meta (version INTEGER NOT NULL)");
  const row = db.prepare("SELECT version FROM worker_meta").get() as { version: number } | undefined;
  const from = row?.version ?? 0;
  db.transaction(() => {
    for (let v = from; v < MIGRATIONS.length; v++) db.exec(MIGRATIONS[v]!);
    if (row) db.prepare("UPDATE worker_meta SET version = ?").run(MIGRATIONS.length);
    else db.prepare("INSERT INTO worker_meta (version) VALUES (?)").run(MIGRATIONS.length);
  })();
}

export type ClaimState = "pending" | "proved" | "submitted" | "paid" | "failed";

export interface ClaimRow {
  id: number;
  run_id: number;
  image_id: string;
  device_id: string;
  epoch: string;
  output: string;
  state: ClaimState;
  attempts: number;
  next_attempt_at_ms: number;
  receipt: string | null;
  tx_hash: string | null;
  reward: string | null;
  gas_used: number | null;
  error: string | null;
  prove_ms: number | null;
}

export interface RunRow {
  id: number;
  image_id: string;
  device_id: string;
  epoch: string;
  from_seq: number;
  to_seq: number;
  reading_count: number;
  state_before: Buffer | null;
  input_digest: string;
  journal: Buffer;
  journal_digest: string;
  fuel_used: number;
  state_root: string;
  trap: string | null;
  created_at_ms: number;
}
