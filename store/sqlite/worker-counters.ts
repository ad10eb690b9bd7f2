/**
 * Running totals of the worker's tables, kept by triggers in the same transaction as each write, so the dashboard and
 * /metrics (polled every few seconds) never count or sum `worker_runs` / `worker_claims`: at 2 M readings and 200 k
 * paid claims building the dashboard took 1.8–2.7 s, every paid claim loaded to sum its reward.
 *
 * Rewards are uint256 decimal strings; SQLite integers stop at 2^63 and its floats round. A reward is therefore kept
 * as ten 8-digit chunks (r0 most significant, of the zero-padded 80-digit string): each chunk sum stays exact for
 * 9·10^10 claims, and the reader carries them into one bigint (`rewardOf`). `approx` (a float) only orders owners.
 */
import type { Migration } from "./migrations.ts";

export const REWARD_CHUNKS = 10;
const CHUNK_DIGITS = 8;
const cols = Array.from({ length: REWARD_CHUNKS }, (_, i) => `r${i}`);
const colDefs = cols.map((c) => `${c} INTEGER NOT NULL DEFAULT 0`).join(", ");
/** The chunks of NEW.reward (NULL counts as 0), as SQL expressions in column order. */
const chunksOf = (v: string) =>
  cols.map(
    (_, i) =>
      `CAST(substr(replace(printf('%80s', coalesce(${v}, '0')), ' ', '0'), ${i * CHUNK_DIGITS + 1}, ${CHUNK_DIGITS}) AS INTEGER)`,
  );
/** Upsert that adds one paid claim (and its reward chunks) to the row keyed by `key`. */
const addPaid = (table: string, keyCol: string, key: string, extra: { col: string; v: string }[] = []) => `
  INSERT INTO ${table} (${keyCol}, claims, ${[...extra.map((e) => e.col), ...cols].join(", ")})
    VALUES (${key}, 1, ${[...extra.map((e) => e.v), ...chunksOf("NEW.reward")].join(", ")})
    ON CONFLICT (${keyCol}) DO UPDATE SET claims = claims + 1, ${[
      ...extra.map((e) => `${e.col} = ${e.col} + excluded.${e.col}`),
      ...cols.map((c) => `${c} = ${c} + excluded.${c}`),
    ].join(", ")};`;

/** Proving-time histogram bounds in seconds (Prometheus `le`); +Inf is the count. */
export const PROVE_BUCKETS = [0.5, 1, 2.5, 5, 10, 20, 40, 80, 160] as const;

/** A chunked reward sum back into one bigint. */
export function rewardOf(row: Record<string, unknown>): bigint {
  let v = 0n;
  for (const c of cols) v = v * 10n ** BigInt(CHUNK_DIGITS) + BigInt((row[c] as number | bigint | null) ?? 0);
  return v;
}

const circuitOf = `coalesce(CASE WHEN json_valid(NEW.receipt) THEN json_extract(NEW.receipt, '$.seal.circuit') END, 'unknown')`;

export const workerCountersMigration: Migration = {
  id: "worker/002-counters",
  sql: `
    CREATE TABLE worker_claim_states (state TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;
    INSERT INTO worker_claim_states (state, n) SELECT state, count(*) FROM worker_claims GROUP BY state;
    CREATE TABLE worker_trap_kinds (kind TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;
    INSERT INTO worker_trap_kinds (kind, n)
      SELECT coalesce(nullif(substr(trap, 1, instr(trap, ':') - 1), ''), 'unknown'), count(*) FROM worker_runs WHERE trap IS NOT NULL GROUP BY 1;
    CREATE TABLE worker_totals (
      id INTEGER PRIMARY KEY CHECK (id = 0),
      runs INTEGER NOT NULL, trapped INTEGER NOT NULL, fuel_used INTEGER NOT NULL,
      proofs INTEGER NOT NULL, prove_ms INTEGER NOT NULL, gas_used INTEGER NOT NULL, claims INTEGER NOT NULL DEFAULT 0, ${colDefs}
    );
    INSERT INTO worker_totals (id, runs, trapped, fuel_used, proofs, prove_ms, gas_used)
      SELECT 0, (SELECT count(*) FROM worker_runs), (SELECT count(trap) FROM worker_runs), (SELECT coalesce(sum(fuel_used), 0) FROM worker_runs),
             count(prove_ms), coalesce(sum(prove_ms), 0), coalesce(sum(gas_used), 0) FROM worker_claims;
    CREATE TABLE worker_applet_totals (image_id TEXT PRIMARY KEY, runs INTEGER NOT NULL, trapped INTEGER NOT NULL, fuel_used INTEGER NOT NULL) WITHOUT ROWID;
    INSERT INTO worker_applet_totals (image_id, runs, trapped, fuel_used)
      SELECT image_id, count(*), count(trap), sum(fuel_used) FROM worker_runs GROUP BY image_id;
    CREATE TABLE worker_payouts (owner TEXT PRIMARY KEY, claims INTEGER NOT NULL, approx REAL NOT NULL, ${colDefs}) WITHOUT ROWID;
    CREATE INDEX worker_payouts_by_reward ON worker_payouts (approx DESC);
    CREATE TABLE worker_paid_minutes (minute INTEGER PRIMARY KEY, claims INTEGER NOT NULL, ${colDefs});
    CREATE TABLE worker_prove_buckets (circuit TEXT NOT NULL, le REAL NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (circuit, le)) WITHOUT ROWID;
    CREATE TABLE worker_prove_sums (circuit TEXT PRIMARY KEY, n INTEGER NOT NULL, ms INTEGER NOT NULL) WITHOUT ROWID;
    INSERT INTO worker_payouts (owner, claims, approx, ${cols.join(", ")})
      SELECT coalesce(d.owner, 'unknown'), count(*), sum(CAST(coalesce(c.reward, '0') AS REAL)), ${chunksOf("c.reward")
        .map((x) => `sum(${x})`)
        .join(", ")}
      FROM worker_claims c LEFT JOIN devices d ON d.device_id = c.device_id WHERE c.state = 'paid' GROUP BY 1;
    INSERT INTO worker_paid_minutes (minute, claims, ${cols.join(", ")})
      SELECT c.updated_at_ms / 60000, count(*), ${chunksOf("c.reward")
        .map((x) => `sum(${x})`)
        .join(", ")}
      FROM worker_claims c WHERE c.state = 'paid' GROUP BY 1;
    UPDATE worker_totals SET claims = (SELECT count(*) FROM worker_claims WHERE state = 'paid'),
      ${cols.map((c, i) => `${c} = (SELECT coalesce(sum(${chunksOf("reward")[i]}), 0) FROM worker_claims WHERE state = 'paid')`).join(", ")};
    INSERT INTO worker_prove_sums (circuit, n, ms)
      SELECT ${circuitOf.replaceAll("NEW.", "")}, count(*), sum(prove_ms) FROM worker_claims WHERE prove_ms IS NOT NULL GROUP BY 1;
    INSERT INTO worker_prove_buckets (circuit, le, n)
      SELECT ${circuitOf.replaceAll("NEW.", "c.")}, b.value, count(*) FROM worker_claims c, json_each('${JSON.stringify(PROVE_BUCKETS)}') b
      WHERE c.prove_ms IS NOT NULL AND c.prove_ms <= b.value * 1000 GROUP BY 1, 2;
    -- The oldest pending claim is one index step (min over the state's first rows).
    CREATE INDEX worker_claims_state_age ON worker_claims (state, created_at_ms);

    CREATE TRIGGER worker_runs_counted AFTER INSERT ON worker_runs BEGIN
      UPDATE worker_totals SET runs = runs + 1, trapped = trapped + (NEW.trap IS NOT NULL), fuel_used = fuel_used + NEW.fuel_used WHERE id = 0;
      INSERT INTO worker_trap_kinds (kind, n)
        SELECT coalesce(nullif(substr(NEW.trap, 1, instr(NEW.trap, ':') - 1), ''), 'unknown'), 1 WHERE NEW.trap IS NOT NULL
        ON CONFLICT (kind) DO UPDATE SET n = n + 1;
      INSERT INTO worker_applet_totals (image_id, runs, trapped, fuel_used) VALUES (NEW.image_id, 1, NEW.trap IS NOT NULL, NEW.fuel_used)
        ON CONFLICT (image_id) DO UPDATE SET runs = runs + 1, trapped = trapped + excluded.trapped, fuel_used = fuel_used + excluded.fuel_used;
    END;
    CREATE TRIGGER worker_claims_counted AFTER INSERT ON worker_claims BEGIN
      INSERT INTO worker_claim_states (state, n) VALUES (NEW.state, 1) ON CONFLICT (state) DO UPDATE SET n = n + 1;
    END;
    CREATE TRIGGER worker_claims_state_counted AFTER UPDATE OF state ON worker_claims WHEN NEW.state IS NOT OLD.state BEGIN
      UPDATE worker_claim_states SET n = n - 1 WHERE state = OLD.state;
      INSERT INTO worker_claim_states (state, n) VALUES (NEW.state, 1) ON CONFLICT (state) DO UPDATE SET n = n + 1;
    END;
    CREATE TRIGGER worker_claims_paid_counted AFTER UPDATE OF state ON worker_claims WHEN NEW.state = 'paid' AND OLD.state <> 'paid' BEGIN
      UPDATE worker_totals SET claims = claims + 1, ${cols.map((c, i) => `${c} = ${c} + ${chunksOf("NEW.reward")[i]}`).join(", ")} WHERE id = 0;
      ${addPaid("worker_payouts", "owner", "coalesce((SELECT owner FROM devices WHERE device_id = NEW.device_id), 'unknown')", [{ col: "approx", v: "CAST(coalesce(NEW.reward, '0') AS REAL)" }])}
      ${addPaid("worker_paid_minutes", "minute", "NEW.updated_at_ms / 60000")}
    END;
    CREATE TRIGGER worker_claims_gas_counted AFTER UPDATE OF gas_used ON worker_claims WHEN NEW.gas_used IS NOT OLD.gas_used BEGIN
      UPDATE worker_totals SET gas_used = gas_used + coalesce(NEW.gas_used, 0) - coalesce(OLD.gas_used, 0) WHERE id = 0;
    END;
    CREATE TRIGGER worker_claims_proof_counted AFTER UPDATE OF prove_ms ON worker_claims WHEN NEW.prove_ms IS NOT NULL AND NEW.prove_ms IS NOT OLD.prove_ms BEGIN
      UPDATE worker_totals SET proofs = proofs + (OLD.prove_ms IS NULL), prove_ms = prove_ms + NEW.prove_ms - coalesce(OLD.prove_ms, 0) WHERE id = 0;
      INSERT INTO worker_prove_sums (circuit, n, ms) VALUES (${circuitOf}, 1, NEW.prove_ms)
        ON CONFLICT (circuit) DO UPDATE SET n = n + 1, ms = ms + excluded.ms;
      INSERT INTO worker_prove_buckets (circuit, le, n)
        SELECT ${circuitOf}, b.value, 1 FROM json_each('${JSON.stringify(PROVE_BUCKETS)}') b WHERE NEW.prove_ms <= b.value * 1000
        ON CONFLICT (circuit, le) DO UPDATE SET n = n + 1;
    END;
  `,
};
