/**
 * Every table of the Postgres store, in one ordered list, with the same owners and ids as SQLite's
 * (../sqlite/migrations.ts) where the tables match. Differences that are Postgres's own:
 * - readings are appended by one function, `mfi_append_group`, so a group of appends (many devices') is one round trip
 *   and one commit: per-device advisory locks, the head checks, one insert (the primary key is the last line of defence);
 * - running reading counts are sharded rows (shard = the backend's pid mod 16): a single counter row would be a lock
 *   every gateway's every append waits on;
 * - rewards are `numeric(78,0)`, exact for uint256, so the worker's status reads are plain aggregates over indexes.
 * Migrations run under an advisory lock: several gateways starting at once on an empty database migrate it once.
 */
import type pg from "pg";
import { pgBatchMigration } from "./batch-store.ts";

export interface PgMigration {
  /** Unique, namespaced by owner: "gateway/001-init", "worker/001-init". Applied once, in list order. */
  id: string;
  sql: string;
}

export const COUNT_SHARDS = 16;

export const pgStoreMigrations: readonly PgMigration[] = [
  {
    id: "gateway/001-init",
    sql: `
      CREATE TABLE devices (
        n bigserial PRIMARY KEY,
        device_id text NOT NULL UNIQUE,
        pk_x text NOT NULL, pk_y text NOT NULL,
        owner text NOT NULL, chain_id text NOT NULL, registry text NOT NULL,
        sig_r8x text NOT NULL, sig_r8y text NOT NULL, sig_s text NOT NULL,
        registered_at bigint NOT NULL
      );
      CREATE TABLE readings (
        device_id text NOT NULL,
        seq bigint NOT NULL,
        ts bigint NOT NULL,
        vals text NOT NULL,
        prev text NOT NULL,
        hash text NOT NULL,
        sig_r8x text, sig_r8y text, sig_s text,
        received_at bigint NOT NULL,
        PRIMARY KEY (device_id, seq)
      );
      CREATE INDEX readings_by_ts ON readings (device_id, ts, seq);
      CREATE TABLE api_keys (
        name text PRIMARY KEY,
        key_hash text NOT NULL UNIQUE,
        created_at bigint NOT NULL
      );
      -- Readings are append-only: the database itself refuses edits.
      CREATE FUNCTION mfi_readings_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'readings are append-only'; END $$;
      CREATE TRIGGER readings_no_update BEFORE UPDATE OR DELETE ON readings
        FOR EACH ROW EXECUTE FUNCTION mfi_readings_append_only();
      CREATE TRIGGER readings_no_truncate BEFORE TRUNCATE ON readings
        FOR EACH STATEMENT EXECUTE FUNCTION mfi_readings_append_only();

      -- Append a group of jobs, each consecutive readings of one device (one job per device in a group), each iff its
      -- first reading extends that device's stored head. Called as one statement, so the locks, the checks and the one
      -- insert are one transaction and one commit for the whole group. The per-device advisory locks serialise appends
      -- of a device across every connection and process; they are taken in one global order (sorted keys), so two
      -- groups never deadlock, and all before the insert, so no group waits for a lock while holding counter rows.
      -- READ COMMITTED gives each head check a snapshot taken after its lock.
      -- Readings are flattened: job i has counts[i] of them from index firsts[i].
      CREATE FUNCTION mfi_append_group(devs text[], recvs bigint[], firsts int[], counts int[], seqs bigint[],
                                       tss bigint[], valss text[], prevs text[], hashes text[], r8xs text[],
                                       r8ys text[], ss text[])
      RETURNS TABLE (job int, ok boolean, head_seq bigint, head_hash text) LANGUAGE plpgsql AS $$
      DECLARE k bigint; i int; f int; h_seq bigint; h_hash text; good int[] := '{}';
      BEGIN
        FOR k IN SELECT DISTINCT hashtextextended('mfi.readings:' || d, 0) FROM unnest(devs) AS d ORDER BY 1 LOOP
          PERFORM pg_advisory_xact_lock(k);
        END LOOP;
        FOR i IN 1 .. coalesce(array_length(devs, 1), 0) LOOP
          f := firsts[i];
          h_seq := NULL; h_hash := NULL;
          SELECT r.seq, r.hash INTO h_seq, h_hash FROM readings r WHERE r.device_id = devs[i] ORDER BY r.seq DESC LIMIT 1;
          job := i;
          IF (h_seq IS NULL AND seqs[f] <> 1) OR (h_seq IS NOT NULL AND (seqs[f] <> h_seq + 1 OR prevs[f] <> h_hash)) THEN
            ok := false; head_seq := h_seq; head_hash := h_hash;
          ELSE
            ok := true; head_seq := NULL; head_hash := NULL;
            good := good || i;
          END IF;
          RETURN NEXT;
        END LOOP;
        INSERT INTO readings (device_id, seq, ts, vals, prev, hash, sig_r8x, sig_r8y, sig_s, received_at)
          SELECT devs[j], seqs[x], tss[x], valss[x], prevs[x], hashes[x], r8xs[x], r8ys[x], ss[x], recvs[j]
          FROM unnest(good) AS j, generate_series(firsts[j], firsts[j] + counts[j] - 1) AS x;
      END $$;
    `,
  },
  {
    id: "gateway/002-market-nonces",
    sql: `
      CREATE TABLE market_nonces (
        buyer text NOT NULL,
        nonce text NOT NULL,
        expiry bigint NOT NULL,
        used_at bigint NOT NULL,
        PRIMARY KEY (buyer, nonce)
      );
      CREATE INDEX market_nonces_by_expiry ON market_nonces (expiry);
    `,
  },
  {
    id: "gateway/003-reading-counts",
    sql: `
      CREATE TABLE reading_minutes (minute bigint NOT NULL, shard int NOT NULL, n bigint NOT NULL, PRIMARY KEY (minute, shard));
      CREATE TABLE reading_total (shard int PRIMARY KEY, n bigint NOT NULL);
      INSERT INTO reading_minutes (minute, shard, n) SELECT received_at / 60000, 0, count(*) FROM readings GROUP BY 1;
      INSERT INTO reading_total (shard, n) SELECT 0, count(*) FROM readings;
      -- Rows locked in one order (minutes ascending, then the total): concurrent groups wait, never deadlock.
      CREATE FUNCTION mfi_readings_counted() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE sh int := pg_backend_pid() % ${COUNT_SHARDS};
      BEGIN
        INSERT INTO reading_minutes (minute, shard, n)
          SELECT received_at / 60000, sh, count(*) FROM new_rows GROUP BY 1 ORDER BY 1
          ON CONFLICT (minute, shard) DO UPDATE SET n = reading_minutes.n + excluded.n;
        INSERT INTO reading_total (shard, n) SELECT sh, count(*) FROM new_rows HAVING count(*) > 0
          ON CONFLICT (shard) DO UPDATE SET n = reading_total.n + excluded.n;
        RETURN NULL;
      END $$;
      CREATE TRIGGER readings_counted AFTER INSERT ON readings REFERENCING NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION mfi_readings_counted();
    `,
  },
  {
    id: "worker/001-init",
    sql: `
      CREATE TABLE worker_applets (
        image_id text PRIMARY KEY,
        name text NOT NULL,
        wasm bytea NOT NULL,
        manifest text NOT NULL,
        cursor_ms bigint NOT NULL,
        added_at_ms bigint NOT NULL
      );
      CREATE TABLE worker_state (
        image_id text NOT NULL,
        device_id text NOT NULL,
        state bytea NOT NULL,
        state_root text NOT NULL,
        PRIMARY KEY (image_id, device_id)
      );
      CREATE TABLE worker_runs (
        id bigserial PRIMARY KEY,
        image_id text NOT NULL,
        device_id text NOT NULL,
        epoch text NOT NULL,
        from_seq bigint NOT NULL,
        to_seq bigint NOT NULL,
        reading_count bigint NOT NULL,
        state_before bytea,
        input_digest text NOT NULL,
        journal bytea NOT NULL,
        journal_digest text NOT NULL,
        fuel_used bigint NOT NULL,
        state_root text NOT NULL,
        trap text,
        created_at_ms bigint NOT NULL,
        UNIQUE (image_id, device_id, epoch)
      );
      CREATE INDEX worker_runs_by_applet ON worker_runs (image_id);
      CREATE TABLE worker_claims (
        id bigserial PRIMARY KEY,
        run_id bigint NOT NULL REFERENCES worker_runs(id),
        image_id text NOT NULL,
        device_id text NOT NULL,
        epoch text NOT NULL,
        output text NOT NULL,
        state text NOT NULL CHECK (state IN ('pending','proved','submitted','paid','failed')),
        attempts int NOT NULL DEFAULT 0,
        next_attempt_at_ms bigint NOT NULL DEFAULT 0,
        receipt text,
        calldata text,
        tx_hash text,
        reward numeric(78, 0),
        gas_used bigint,
        error text,
        prove_ms bigint,
        created_at_ms bigint NOT NULL,
        updated_at_ms bigint NOT NULL,
        UNIQUE (image_id, device_id, epoch)
      );
      CREATE INDEX worker_claims_state ON worker_claims (state, next_attempt_at_ms);
      CREATE INDEX worker_claims_state_age ON worker_claims (state, created_at_ms);
      CREATE INDEX worker_claims_paid ON worker_claims (updated_at_ms) WHERE state = 'paid';
    `,
  },
  {
    // issue 22: an applet whose module fails to load is quarantined (the reason), never retried per tick
    id: "worker/quarantine-001",
    sql: `
      ALTER TABLE worker_applets ADD COLUMN quarantined text;
      ALTER TABLE worker_applets ADD COLUMN quarantined_at_ms bigint;
    `,
  },
  {
    // issue 22: a version `mfi dev` replaced is retired (no new runs; its claims still settle) until added again
    id: "worker/retire-001",
    sql: `ALTER TABLE worker_applets ADD COLUMN retired_at_ms bigint;`,
  },
  {
    // issue 18: why a run's claim was not kept (not claimable), or how its state was re-synced from the chain
    id: "worker/run-note-001",
    sql: `ALTER TABLE worker_runs ADD COLUMN note text;`,
  },
  {
    // issue 18: the device token of a claim's state (a rotated device's claims under all its keys, in any process);
    // null for claims stored before (their device id is taken as the token)
    id: "worker/claim-token-001",
    sql: `ALTER TABLE worker_claims ADD COLUMN token_id text;
CREATE INDEX IF NOT EXISTS worker_claims_token ON worker_claims (image_id, token_id);`,
  },
  pgBatchMigration, // issue 26: the worker's batches (./batch-store.ts)
];

/** Apply the migrations this database has not seen yet, each in its own transaction, once across all processes. */
export async function migratePg(client: pg.ClientBase, migrations: readonly PgMigration[]): Promise<void> {
  await client.query("SELECT pg_advisory_lock(hashtextextended('mfi.migrate', 0))");
  try {
    await client.query(
      "CREATE TABLE IF NOT EXISTS schema_migrations (id text PRIMARY KEY, applied_at bigint NOT NULL)",
    );
    const done = new Set(
      (await client.query<{ id: string }>("SELECT id FROM schema_migrations")).rows.map((r) => r.id),
    );
    for (const m of migrations) {
      if (done.has(m.id)) continue;
      await client.query("BEGIN");
      try {
        await client.query(m.sql);
        await client.query("INSERT INTO schema_migrations (id, applied_at) VALUES ($1, $2)", [m.id, Date.now()]);
        await client.query("COMMIT");
      } catch (e) {
        await client.query("ROLLBACK");
        throw e;
      }
    }
  } finally {
    await client.query("SELECT pg_advisory_unlock(hashtextextended('mfi.migrate', 0))");
  }
}
