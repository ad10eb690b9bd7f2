/** The worker's tables (WorkerStore), applied after the readings' own (ids namespaced "worker/"). */
import type { Migration } from "./migrations.ts";

export const workerMigrations: readonly Migration[] = [
  {
    id: "worker/001-init",
    sql: `
CREATE TABLE IF NOT EXISTS worker_applets (
     image_id TEXT PRIMARY KEY,
     name TEXT NOT NULL,
     wasm BLOB NOT NULL,
     manifest TEXT NOT NULL,
     cursor_ms INTEGER NOT NULL,            -- start of the next epoch to close
     added_at_ms INTEGER NOT NULL
   );
CREATE TABLE IF NOT EXISTS worker_state (
     image_id TEXT NOT NULL,
     device_id TEXT NOT NULL,
     state BLOB NOT NULL,
     state_root TEXT NOT NULL,
     PRIMARY KEY (image_id, device_id)
   );
CREATE TABLE IF NOT EXISTS worker_runs (
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
   );
CREATE TABLE IF NOT EXISTS worker_claims (
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
     calldata TEXT,
     tx_hash TEXT,
     reward TEXT,
     gas_used INTEGER,
     error TEXT,
     prove_ms INTEGER,
     created_at_ms INTEGER NOT NULL,
     updated_at_ms INTEGER NOT NULL,
     UNIQUE (image_id, device_id, epoch)
   );
CREATE INDEX IF NOT EXISTS worker_claims_state ON worker_claims (state, next_attempt_at_ms);
`,
  },
  {
    // issue 22: an applet whose module fails to load is quarantined (the reason), never retried per tick
    id: "worker/quarantine-001",
    sql: `
ALTER TABLE worker_applets ADD COLUMN quarantined TEXT;
ALTER TABLE worker_applets ADD COLUMN quarantined_at_ms INTEGER;
`,
  },
  {
    // issue 22: a version `mfi dev` replaced is retired (no new runs; its claims still settle) until added again
    id: "worker/retire-001",
    sql: `
ALTER TABLE worker_applets ADD COLUMN retired_at_ms INTEGER;
`,
  },
  {
    // issue 18: why a run's claim was not kept (not claimable), or how its state was re-synced from the chain
    id: "worker/run-note-001",
    sql: `
ALTER TABLE worker_runs ADD COLUMN note TEXT;
`,
  },
  {
    // issue 18: the device token of a claim's state (a rotated device's claims under all its keys, in any process);
    // null for claims stored before (their device id is taken as the token)
    id: "worker/claim-token-001",
    sql: `
ALTER TABLE worker_claims ADD COLUMN token_id TEXT;
CREATE INDEX IF NOT EXISTS worker_claims_token ON worker_claims (image_id, token_id);
`,
  },
];
