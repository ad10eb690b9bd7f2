/**
 * Every table of the SQLite store, in one ordered list: the readings' own (devices, readings, API keys, the trigger-kept
 * counters of ./counters.ts), the market's nonces (./nonces.ts) and the worker's runs and claims
 * (./worker-migrations.ts). Ids are namespaced by owner and kept as first applied, so existing files migrate on.
 */
import type Database from "better-sqlite3";
import { readingCountsMigration } from "./counters.ts";
import { marketNonceMigration } from "./nonces.ts";
import { workerMigrations } from "./worker-migrations.ts";
import { batchMigration } from "./batch-store.ts";
import { workerCountersMigration } from "./worker-counters.ts";

export interface Migration {
  /** Unique, namespaced by owner: "gateway/001-init", "worker/001-init". Applied once, in list order. */
  id: string;
  sql: string;
}

export const storeMigrations: readonly Migration[] = [
  {
    id: "gateway/001-init",
    sql: `
      CREATE TABLE devices (
        n INTEGER PRIMARY KEY AUTOINCREMENT,
        device_id TEXT NOT NULL UNIQUE,
        pk_x TEXT NOT NULL, pk_y TEXT NOT NULL,
        owner TEXT NOT NULL, chain_id TEXT NOT NULL, registry TEXT NOT NULL,
        sig_r8x TEXT NOT NULL, sig_r8y TEXT NOT NULL, sig_s TEXT NOT NULL,
        registered_at INTEGER NOT NULL
      );
      CREATE TABLE readings (
        device_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        ts INTEGER NOT NULL,
        vals TEXT NOT NULL,
        prev TEXT NOT NULL,
        hash TEXT NOT NULL,
        sig_r8x TEXT, sig_r8y TEXT, sig_s TEXT,
        received_at INTEGER NOT NULL,
        PRIMARY KEY (device_id, seq)
      ) WITHOUT ROWID;
      CREATE INDEX readings_by_ts ON readings (device_id, ts, seq);
      CREATE TABLE api_keys (
        name TEXT PRIMARY KEY,
        key_hash TEXT NOT NULL UNIQUE,
        created_at INTEGER NOT NULL
      );
      -- Readings are append-only: the database itself refuses edits.
      CREATE TRIGGER readings_no_update BEFORE UPDATE ON readings BEGIN SELECT RAISE(ABORT, 'readings are append-only'); END;
      CREATE TRIGGER readings_no_delete BEFORE DELETE ON readings BEGIN SELECT RAISE(ABORT, 'readings are append-only'); END;
    `,
  },
  marketNonceMigration,
  readingCountsMigration,
  ...workerMigrations,
  workerCountersMigration,
  batchMigration,
];

/** Apply, each in its own transaction, the migrations this file has not seen yet. */
export function migrate(db: Database.Database, migrations: readonly Migration[]): void {
  db.exec("CREATE TABLE IF NOT EXISTS schema_migrations (id TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)");
  const done = new Set((db.prepare("SELECT id FROM schema_migrations").all() as { id: string }[]).map((r) => r.id));
  const mark = db.prepare("INSERT INTO schema_migrations (id, applied_at) VALUES (?, ?)");
  for (const m of migrations) {
    if (done.has(m.id)) continue;
    db.transaction(() => {
      db.exec(m.sql);
      mark.run(m.id, Date.now());
    })();
  }
}
