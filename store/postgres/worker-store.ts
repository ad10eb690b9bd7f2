/**
 * The worker's store on Postgres: the same tables and transitions as ../sqlite/worker-store.ts. Status reads are plain
 * aggregates over indexed columns: `numeric` sums uint256 rewards exactly, so the chunked counters SQLite needs have
 * no Postgres counterpart.
 */
import type pg from "pg";
import type { StoredReading } from "../types.ts";
import type {
  AppletSpec,
  AppletSummary,
  ClaimCalldata,
  ClaimRow,
  ClaimState,
  PaidActivity,
  ProveHistogram,
  Reducer,
  RunOutcome,
  RunRow,
  WorkerApplet,
  WorkerStore,
  WorkerTotals,
} from "../worker-types.ts";
import { RESCHEDULE_FROM } from "../worker-types.ts";
import { PROVE_BUCKETS } from "../sqlite/worker-counters.ts";
import { storeErrorOf } from "./errors.ts";
import { PgBatchStore } from "./batch-store.ts";
import type { BatchRow } from "../batch-types.ts";

interface AppletRow {
  image_id: string;
  name: string;
  wasm: Buffer;
  manifest: string;
  cursor_ms: number;
  quarantined: string | null;
  retired_at_ms: string | null;
}

const manifestOf = (s: AppletSpec) =>
  JSON.stringify({
    reducer: s.reducer,
    param: s.param?.toString(),
    rewardPerUnit: s.rewardPerUnit.toString(),
    schedule: s.schedule,
  });

function specOf(row: AppletRow): AppletSpec {
  const m = JSON.parse(row.manifest) as {
    reducer: Reducer;
    param?: string;
    rewardPerUnit: string;
    schedule?: AppletSpec["schedule"];
  };
  return {
    imageId: row.image_id,
    name: row.name,
    wasm: new Uint8Array(row.wasm),
    reducer: m.reducer,
    param: m.param === undefined ? undefined : BigInt(m.param),
    rewardPerUnit: BigInt(m.rewardPerUnit),
    ...(m.schedule ? { schedule: m.schedule } : {}),
  };
}

/** A claim row as SQLite returns it: the reward a decimal string (numeric's text is one). */
const claimOf = (r: ClaimRow): ClaimRow => r;

/** The receipt's seal.circuit, 'unknown' when the receipt is not JSON or names none (as SQLite's json_extract). */
const CIRCUIT = `coalesce(CASE WHEN receipt IS JSON OBJECT THEN receipt::jsonb #>> '{seal,circuit}' END, 'unknown')`;

export class PgWorkerStore implements WorkerStore {
  constructor(private readonly pool: pg.Pool) {}

  private q<R extends pg.QueryResultRow>(text: string, values?: unknown[]) {
    return this.pool.query<R>(text, values).catch((e: unknown) => {
      throw storeErrorOf(e);
    });
  }

  async upsertApplet(spec: AppletSpec, cursorMs: number, now: number): Promise<void> {
    await this.q(
      `INSERT INTO worker_applets (image_id, name, wasm, manifest, cursor_ms, added_at_ms) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (image_id) DO UPDATE SET name = excluded.name, manifest = excluded.manifest, retired_at_ms = NULL`,
      [spec.imageId, spec.name, Buffer.from(spec.wasm), manifestOf(spec), cursorMs, now],
    );
  }

  async retireApplet(imageId: string, fromMs: number): Promise<boolean> {
    const r = await this.q(
      "UPDATE worker_applets SET retired_at_ms = $1 WHERE image_id = $2 AND retired_at_ms IS NULL",
      [fromMs, imageId],
    );
    return (r.rowCount ?? 0) > 0;
  }

  async listApplets(): Promise<WorkerApplet[]> {
    const rows = await this.q<AppletRow>("SELECT * FROM worker_applets ORDER BY added_at_ms, image_id");
    return rows.rows.map((r) => ({
      spec: specOf(r),
      cursorMs: r.cursor_ms,
      quarantined: r.quarantined ?? null,
      retiredAtMs: r.retired_at_ms === null ? null : Number(r.retired_at_ms),
    }));
  }

  async quarantineApplet(imageId: string, reason: string, now: number): Promise<boolean> {
    const r = await this.q(
      "UPDATE worker_applets SET quarantined = $1, quarantined_at_ms = $2 WHERE image_id = $3 AND quarantined IS NULL",
      [reason, now, imageId],
    );
    return (r.rowCount ?? 0) > 0;
  }

  async getApplet(imageId: string): Promise<AppletSpec | undefined> {
    const row = (await this.q<AppletRow>("SELECT * FROM worker_applets WHERE image_id = $1", [imageId])).rows[0];
    return row && specOf(row);
  }

  async setCursor(imageId: string, cursorMs: number): Promise<void> {
    await this.q("UPDATE worker_applets SET cursor_ms = $1 WHERE image_id = $2 AND cursor_ms < $1", [
      cursorMs,
      imageId,
    ]);
  }

  async hasRun(imageId: string, deviceId: bigint, epoch: bigint): Promise<boolean> {
    const r = await this.q("SELECT 1 FROM worker_runs WHERE image_id = $1 AND device_id = $2 AND epoch = $3", [
      imageId,
      deviceId.toString(),
      epoch.toString(),
    ]);
    return r.rows.length > 0;
  }

  async getState(imageId: string, deviceId: bigint): Promise<Uint8Array | undefined> {
    const row = (
      await this.q<{ state: Buffer }>("SELECT state FROM worker_state WHERE image_id = $1 AND device_id = $2", [
        imageId,
        deviceId.toString(),
      ])
    ).rows[0];
    return row ? new Uint8Array(row.state) : undefined;
  }

  async recordRun(a: {
    applet: AppletSpec;
    deviceId: bigint;
    epoch: bigint;
    readings: StoredReading[];
    stateBefore: Uint8Array | undefined;
    outcome: RunOutcome;
    claims: { deviceId: bigint; output: bigint }[];
    now: number;
    stateOwner?: bigint;
    advanceState?: boolean;
    note?: string;
  }): Promise<number> {
    const c = await this.pool.connect().catch((e: unknown) => {
      throw storeErrorOf(e);
    });
    try {
      await c.query("BEGIN");
      const o = a.outcome;
      const run = await c.query<{ id: number }>(
        `INSERT INTO worker_runs (image_id, device_id, epoch, from_seq, to_seq, reading_count, state_before, input_digest, journal, journal_digest, fuel_used, state_root, trap, created_at_ms, note)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING id`,
        [
          a.applet.imageId,
          a.deviceId.toString(),
          a.epoch.toString(),
          Number(a.readings[0]!.seq),
          Number(a.readings[a.readings.length - 1]!.seq),
          a.readings.length,
          a.stateBefore ? Buffer.from(a.stateBefore) : null,
          o.inputDigest,
          Buffer.from(o.journal),
          o.journalDigest,
          o.fuelUsed.toString(),
          o.stateRoot,
          o.trap ? `${o.trap.kind}: ${o.trap.message}` : null,
          a.now,
          a.note ?? null,
        ],
      );
      const runId = run.rows[0]!.id;
      if (!o.trap && a.advanceState !== false)
        await c.query(
          `INSERT INTO worker_state (image_id, device_id, state, state_root) VALUES ($1, $2, $3, $4)
           ON CONFLICT (image_id, device_id) DO UPDATE SET state = excluded.state, state_root = excluded.state_root`,
          [a.applet.imageId, (a.stateOwner ?? a.deviceId).toString(), Buffer.from(o.state), o.stateRoot],
        );
      for (const cl of a.claims)
        await c.query(
          `INSERT INTO worker_claims (run_id, image_id, device_id, epoch, output, state, created_at_ms, updated_at_ms, token_id)
           VALUES ($1, $2, $3, $4, $5, 'pending', $6, $6, $7) ON CONFLICT DO NOTHING`,
          [
            runId,
            a.applet.imageId,
            cl.deviceId.toString(),
            a.epoch.toString(),
            cl.output.toString(),
            a.now,
            (a.stateOwner ?? a.deviceId).toString(),
          ],
        );
      await c.query("COMMIT");
      return runId;
    } catch (e) {
      await c.query("ROLLBACK").catch(() => {});
      throw storeErrorOf(e);
    } finally {
      c.release();
    }
  }

  async dueClaims(state: ClaimState, now: number, limit: number): Promise<ClaimRow[]> {
    // Longest-waiting first: by id, a few claims retried every pass would take every slot and starve the rest.
    const r = await this.q<ClaimRow>(
      "SELECT * FROM worker_claims WHERE state = $1 AND next_attempt_at_ms <= $2 ORDER BY next_attempt_at_ms, id LIMIT $3",
      [state, now, limit],
    );
    return r.rows.map(claimOf);
  }

  async defer(id: number, untilMs: number, note: string): Promise<void> {
    await this.q("UPDATE worker_claims SET next_attempt_at_ms = $1, error = $2 WHERE id = $3", [untilMs, note, id]);
  }

  async markProved(id: number, receipt: string, calldata: string, proveMs: number, now: number): Promise<void> {
    await this.q(
      `UPDATE worker_claims SET state = 'proved', receipt = $1, calldata = $2, prove_ms = $3, error = NULL,
       next_attempt_at_ms = 0, updated_at_ms = $4 WHERE id = $5 AND state = 'pending'`,
      [receipt, calldata, proveMs, now, id],
    );
  }

  async calldataOf(id: number): Promise<ClaimCalldata> {
    const row = (await this.q<{ calldata: string }>("SELECT calldata FROM worker_claims WHERE id = $1", [id])).rows[0]!;
    const c = JSON.parse(row.calldata) as Record<string, string>;
    return {
      imageId: c.imageId!,
      deviceId: BigInt(c.deviceId!),
      epoch: BigInt(c.epoch!),
      output: BigInt(c.output!),
      proof: c.proof!,
      ...(c.stateIn !== undefined ? { stateIn: BigInt(c.stateIn), stateOut: BigInt(c.stateOut!) } : {}),
    };
  }

  async markSubmitted(id: number, txHash: string, now: number): Promise<void> {
    await this.q("UPDATE worker_claims SET state = 'submitted', tx_hash = $1, updated_at_ms = $2 WHERE id = $3", [
      txHash,
      now,
      id,
    ]);
  }

  async markPaid(id: number, r: { reward?: bigint; gasUsed?: bigint; note?: string }, now: number): Promise<void> {
    await this.q(
      `UPDATE worker_claims SET state = 'paid', reward = coalesce($1::numeric, reward), gas_used = coalesce($2::bigint, gas_used),
       error = $3, updated_at_ms = $4 WHERE id = $5`,
      [r.reward?.toString() ?? null, r.gasUsed?.toString() ?? null, r.note ?? null, now, id],
    );
  }

  async reschedule(id: number, state: ClaimState, attempts: number, atMs: number, error: string): Promise<boolean> {
    // Conditional on where the claim is now (RESCHEDULE_FROM) and on attempts not going back: a late failure of a
    // duplicate prover finds the claim proved (or further) and changes nothing. One statement: no race in between.
    const r = await this.q(
      `UPDATE worker_claims SET state = $1, attempts = $2, next_attempt_at_ms = $3, error = $4
       WHERE id = $5 AND attempts <= $2 AND state = ANY($6::text[])`,
      [state, attempts, atMs, error, id, [...RESCHEDULE_FROM[state]]],
    );
    return (r.rowCount ?? 0) > 0;
  }

  async markFailed(id: number, error: string, attempts: number, now: number): Promise<boolean> {
    const r = await this.q(
      "UPDATE worker_claims SET state = 'failed', error = $1, attempts = $2, updated_at_ms = $3 WHERE id = $4 AND state <> 'paid'",
      [error, attempts, now, id],
    );
    return (r.rowCount ?? 0) > 0;
  }

  async claimState(id: number): Promise<{ state: ClaimState; attempts: number } | undefined> {
    return (
      await this.q<{ state: ClaimState; attempts: number }>("SELECT state, attempts FROM worker_claims WHERE id = $1", [
        id,
      ])
    ).rows[0];
  }

  async claimAt(imageId: string, deviceId: string, epoch: bigint): Promise<ClaimRow | undefined> {
    return (
      await this.q<ClaimRow>("SELECT * FROM worker_claims WHERE image_id = $1 AND device_id = $2 AND epoch = $3", [
        imageId,
        deviceId,
        epoch.toString(),
      ])
    ).rows[0];
  }

  async lastPaidEpoch(imageId: string, tokenId: bigint): Promise<bigint | undefined> {
    const { rows } = await this.q<{ epoch: string }>(
      `SELECT epoch FROM worker_claims WHERE ${OF_TOKEN} AND state = 'paid' ORDER BY epoch::numeric DESC LIMIT 1`,
      [imageId, tokenId.toString()],
    );
    return rows[0] ? BigInt(rows[0].epoch) : undefined;
  }

  async tokenUnsettledEpochs(imageId: string, tokenId: bigint): Promise<bigint[]> {
    const { rows } = await this.q<{ epoch: string }>(
      `SELECT epoch FROM worker_claims WHERE ${OF_TOKEN} AND state IN ('pending','proved','submitted')`,
      [imageId, tokenId.toString()],
    );
    return rows.map((r) => BigInt(r.epoch));
  }

  async tokenClaimAt(imageId: string, tokenId: bigint, epoch: bigint): Promise<ClaimRow | undefined> {
    return (
      await this.q<ClaimRow>(`SELECT * FROM worker_claims WHERE ${OF_TOKEN} AND epoch = $3 LIMIT 1`, [
        imageId,
        tokenId.toString(),
        epoch.toString(),
      ])
    ).rows[0];
  }

  async unsettledEpochs(imageId: string, deviceId: string): Promise<bigint[]> {
    const { rows } = await this.q<{ epoch: string }>(
      "SELECT epoch FROM worker_claims WHERE image_id = $1 AND device_id = $2 AND state IN ('pending','proved','submitted')",
      [imageId, deviceId],
    );
    return rows.map((r) => BigInt(r.epoch));
  }

  async getRun(id: number): Promise<RunRow | undefined> {
    return (await this.q<RunRow>("SELECT * FROM worker_runs WHERE id = $1", [id])).rows[0];
  }

  async listRuns(limit = 50): Promise<RunRow[]> {
    return (await this.q<RunRow>("SELECT * FROM worker_runs ORDER BY id DESC LIMIT $1", [limit])).rows;
  }

  async listClaims(limit = 100): Promise<ClaimRow[]> {
    return (await this.q<ClaimRow>("SELECT * FROM worker_claims ORDER BY id DESC LIMIT $1", [limit])).rows.map(claimOf);
  }

  async claimCounts(): Promise<Record<ClaimState, number>> {
    const out: Record<ClaimState, number> = { pending: 0, proved: 0, submitted: 0, paid: 0, failed: 0 };
    const rows = await this.q<{ state: ClaimState; n: number }>(
      "SELECT state, count(*) AS n FROM worker_claims GROUP BY state",
    );
    for (const r of rows.rows) out[r.state] = r.n;
    return out;
  }

  async runCounts(): Promise<{ runs: number; trapped: number }> {
    return (
      await this.q<{ runs: number; trapped: number }>(
        "SELECT count(*) AS runs, count(trap) AS trapped FROM worker_runs",
      )
    ).rows[0]!;
  }

  async trapCounts(): Promise<{ kind: string; n: number }[]> {
    return (
      await this.q<{ kind: string; n: number }>(
        `SELECT coalesce(nullif(split_part(trap, ':', 1), ''), 'unknown') AS kind, count(*) AS n
         FROM worker_runs WHERE trap IS NOT NULL GROUP BY 1`,
      )
    ).rows;
  }

  async totals(): Promise<WorkerTotals> {
    const t = (
      await this.q<{ fuel: number; prove_ms: number; proofs: number; gas: number; paid: number; reward: string }>(
        `SELECT (SELECT coalesce(sum(fuel_used), 0)::bigint FROM worker_runs) AS fuel,
                coalesce(sum(prove_ms), 0)::bigint AS prove_ms, count(prove_ms) AS proofs,
                coalesce(sum(gas_used), 0)::bigint AS gas,
                count(*) FILTER (WHERE state = 'paid') AS paid,
                coalesce(sum(reward) FILTER (WHERE state = 'paid'), 0)::text AS reward
         FROM worker_claims`,
      )
    ).rows[0]!;
    return {
      fuelUsed: t.fuel,
      proveMs: t.prove_ms,
      proofs: t.proofs,
      gasUsed: t.gas,
      paidClaims: t.paid,
      rewardPaid: BigInt(t.reward),
    };
  }

  async payouts(limit: number): Promise<{ owners: number; rows: { owner: string; claims: number; reward: bigint }[] }> {
    const r = await this.q<{ owner: string; claims: number; reward: string; owners: number }>(
      `SELECT coalesce(d.owner, 'unknown') AS owner, count(*) AS claims, coalesce(sum(c.reward), 0)::text AS reward,
              count(*) OVER () AS owners
       FROM worker_claims c LEFT JOIN devices d ON d.device_id = c.device_id WHERE c.state = 'paid'
       GROUP BY 1 ORDER BY sum(c.reward) DESC NULLS LAST LIMIT $1`,
      [limit],
    );
    const owners =
      r.rows[0]?.owners ??
      (
        await this.q<{ n: number }>(
          `SELECT count(DISTINCT coalesce(d.owner, 'unknown')) AS n FROM worker_claims c
           LEFT JOIN devices d ON d.device_id = c.device_id WHERE c.state = 'paid'`,
        )
      ).rows[0]!.n;
    return { owners, rows: r.rows.map((x) => ({ owner: x.owner, claims: x.claims, reward: BigInt(x.reward) })) };
  }

  async paidActivity(sinceMinute: number): Promise<PaidActivity> {
    const r = await this.q<{ minute: number; claims: number; reward: string }>(
      `SELECT updated_at_ms / 60000 AS minute, count(*) AS claims, coalesce(sum(reward), 0)::text AS reward
       FROM worker_claims WHERE state = 'paid' AND updated_at_ms >= $1::bigint * 60000 GROUP BY 1 ORDER BY 1`,
      [sinceMinute],
    );
    const t = await this.totals();
    return {
      claims: t.paidClaims,
      reward: t.rewardPaid,
      minutes: r.rows.map((x) => ({ minute: x.minute, claims: x.claims, reward: BigInt(x.reward) })),
    };
  }

  async oldestPending(): Promise<number | null> {
    return (
      await this.q<{ at: number | null }>("SELECT min(created_at_ms) AS at FROM worker_claims WHERE state = 'pending'")
    ).rows[0]!.at;
  }

  async proveHistogram(): Promise<ProveHistogram[]> {
    const cols = PROVE_BUCKETS.map((le, i) => `count(*) FILTER (WHERE prove_ms <= ${le * 1000}) AS b${i}`).join(", ");
    const r = await this.q<Record<string, number> & { circuit: string; n: number; ms: number }>(
      `SELECT ${CIRCUIT} AS circuit, count(*) AS n, sum(prove_ms)::bigint AS ms, ${cols}
       FROM worker_claims WHERE prove_ms IS NOT NULL GROUP BY 1`,
    );
    return r.rows.map((s) => ({
      circuit: s.circuit,
      count: s.n,
      sumMs: s.ms,
      buckets: PROVE_BUCKETS.map((le, i) => ({ le, n: s[`b${i}`]! })),
    }));
  }

  async listBatches(limit = 50): Promise<BatchRow[]> {
    return new PgBatchStore(this.pool).listBatches(limit);
  }

  async applets(): Promise<AppletSummary[]> {
    return (
      await this.q<AppletSummary>(
        `SELECT a.image_id AS "imageId", a.name, count(r.id) AS runs, count(r.trap) AS trapped,
                coalesce(sum(r.fuel_used), 0)::bigint AS "fuelUsed", a.quarantined
         FROM worker_applets a LEFT JOIN worker_runs r ON r.image_id = a.image_id
         GROUP BY a.image_id, a.name, a.added_at_ms, a.quarantined ORDER BY a.added_at_ms, a.image_id`,
      )
    ).rows;
  }
}

/** Issue 18: a token's claims, under any of its keys (a claim stored before token_id: its device id is the token). */
const OF_TOKEN = "image_id = $1 AND (token_id = $2 OR (token_id IS NULL AND device_id = $2))";
