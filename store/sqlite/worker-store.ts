/** The worker's store on SQLite: statements over its tables (./worker-migrations.ts); each method is one transaction. */
import type Database from "better-sqlite3";
import type { StoredReading } from "../types.ts";
import type {
  AppletSpec,
  ClaimCalldata,
  ClaimRow,
  ClaimState,
  Reducer,
  RunOutcome,
  RunRow,
  AppletSummary,
  PaidActivity,
  ProveHistogram,
  WorkerApplet,
  WorkerStore,
  WorkerTotals,
} from "../worker-types.ts";
import { RESCHEDULE_FROM } from "../worker-types.ts";
import { PROVE_BUCKETS, rewardOf } from "./worker-counters.ts";
import { SqliteBatchStore } from "./batch-store.ts";
import type { BatchRow } from "../batch-types.ts";

interface AppletRow {
  image_id: string;
  name: string;
  wasm: Buffer;
  manifest: string;
  cursor_ms: number;
  quarantined: string | null;
  retired_at_ms: number | null;
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

export class SqliteWorkerStore implements WorkerStore {
  constructor(private readonly db: Database.Database) {}

  async upsertApplet(spec: AppletSpec, cursorMs: number, now: number): Promise<void> {
    this.db
      .prepare(
        `INSERT INTO worker_applets (image_id, name, wasm, manifest, cursor_ms, added_at_ms) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (image_id) DO UPDATE SET name = excluded.name, manifest = excluded.manifest, retired_at_ms = NULL`,
      )
      .run(spec.imageId, spec.name, Buffer.from(spec.wasm), manifestOf(spec), cursorMs, now);
  }

  async retireApplet(imageId: string, fromMs: number): Promise<boolean> {
    return (
      this.db
        .prepare("UPDATE worker_applets SET retired_at_ms = ? WHERE image_id = ? AND retired_at_ms IS NULL")
        .run(fromMs, imageId).changes > 0
    );
  }

  async listApplets(): Promise<WorkerApplet[]> {
    return (this.db.prepare("SELECT * FROM worker_applets ORDER BY added_at_ms, image_id").all() as AppletRow[]).map(
      (r) => ({
        spec: specOf(r),
        cursorMs: r.cursor_ms,
        quarantined: r.quarantined ?? null,
        retiredAtMs: r.retired_at_ms ?? null,
      }),
    );
  }

  async quarantineApplet(imageId: string, reason: string, now: number): Promise<boolean> {
    const r = this.db
      .prepare(
        "UPDATE worker_applets SET quarantined = ?, quarantined_at_ms = ? WHERE image_id = ? AND quarantined IS NULL",
      )
      .run(reason, now, imageId);
    return r.changes > 0;
  }

  async getApplet(imageId: string): Promise<AppletSpec | undefined> {
    const row = this.db.prepare("SELECT * FROM worker_applets WHERE image_id = ?").get(imageId) as
      AppletRow | undefined;
    return row && specOf(row);
  }

  async setCursor(imageId: string, cursorMs: number): Promise<void> {
    this.db
      .prepare("UPDATE worker_applets SET cursor_ms = ? WHERE image_id = ? AND cursor_ms < ?")
      .run(cursorMs, imageId, cursorMs);
  }

  async hasRun(imageId: string, deviceId: bigint, epoch: bigint): Promise<boolean> {
    return !!this.db
      .prepare("SELECT 1 FROM worker_runs WHERE image_id = ? AND device_id = ? AND epoch = ?")
      .get(imageId, deviceId.toString(), epoch.toString());
  }

  async getState(imageId: string, deviceId: bigint): Promise<Uint8Array | undefined> {
    const row = this.db
      .prepare("SELECT state FROM worker_state WHERE image_id = ? AND device_id = ?")
      .get(imageId, deviceId.toString()) as { state: Buffer } | undefined;
    return row ? new Uint8Array(row.state) : undefined;
  }

  /** Store the run, the applet's new state (unless it trapped) and its claims, atomically. Returns the run id. */
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
    return this.db.transaction(() => {
      const o = a.outcome;
      const run = this.db
        .prepare(
          `INSERT INTO worker_runs (image_id, device_id, epoch, from_seq, to_seq, reading_count, state_before, input_digest, journal, journal_digest, fuel_used, state_root, trap, created_at_ms, note)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
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
          Number(o.fuelUsed),
          o.stateRoot,
          o.trap ? `${o.trap.kind}: ${o.trap.message}` : null,
          a.now,
          a.note ?? null,
        );
      const runId = Number(run.lastInsertRowid);
      if (!o.trap && a.advanceState !== false) {
        this.db
          .prepare(
            "INSERT INTO worker_state (image_id, device_id, state, state_root) VALUES (?, ?, ?, ?) ON CONFLICT (image_id, device_id) DO UPDATE SET state = excluded.state, state_root = excluded.state_root",
          )
          .run(a.applet.imageId, (a.stateOwner ?? a.deviceId).toString(), Buffer.from(o.state), o.stateRoot);
      }
      const ins = this.db.prepare(
        `INSERT OR IGNORE INTO worker_claims (run_id, image_id, device_id, epoch, output, state, created_at_ms, updated_at_ms, token_id) VALUES (?, ?, ?, ?, ?, 'pending', ?, ?, ?)`,
      );
      const token = (a.stateOwner ?? a.deviceId).toString();
      for (const c of a.claims)
        ins.run(
          runId,
          a.applet.imageId,
          c.deviceId.toString(),
          a.epoch.toString(),
          c.output.toString(),
          a.now,
          a.now,
          token,
        );
      return runId;
    })();
  }

  async dueClaims(state: ClaimState, now: number, limit: number): Promise<ClaimRow[]> {
    // Longest-waiting first: by id, a few claims retried every pass would take every slot and starve the rest.
    return this.db
      .prepare(
        "SELECT * FROM worker_claims WHERE state = ? AND next_attempt_at_ms <= ? ORDER BY next_attempt_at_ms, id LIMIT ?",
      )
      .all(state, now, limit) as ClaimRow[];
  }

  async defer(id: number, untilMs: number, note: string): Promise<void> {
    this.db.prepare("UPDATE worker_claims SET next_attempt_at_ms = ?, error = ? WHERE id = ?").run(untilMs, note, id);
  }

  async markProved(id: number, receipt: string, calldata: string, proveMs: number, now: number): Promise<void> {
    this.db
      .prepare(
        "UPDATE worker_claims SET state = 'proved', receipt = ?, calldata = ?, prove_ms = ?, error = NULL, next_attempt_at_ms = 0, updated_at_ms = ? WHERE id = ? AND state = 'pending'",
      )
      .run(receipt, calldata, proveMs, now, id);
  }

  async calldataOf(id: number): Promise<ClaimCalldata> {
    const row = this.db.prepare("SELECT calldata FROM worker_claims WHERE id = ?").get(id) as { calldata: string };
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
    this.db
      .prepare("UPDATE worker_claims SET state = 'submitted', tx_hash = ?, updated_at_ms = ? WHERE id = ?")
      .run(txHash, now, id);
  }

  async markPaid(id: number, r: { reward?: bigint; gasUsed?: bigint; note?: string }, now: number): Promise<void> {
    this.db
      .prepare(
        "UPDATE worker_claims SET state = 'paid', reward = coalesce(?, reward), gas_used = coalesce(?, gas_used), error = ?, updated_at_ms = ? WHERE id = ?",
      )
      .run(r.reward?.toString() ?? null, r.gasUsed === undefined ? null : Number(r.gasUsed), r.note ?? null, now, id);
  }

  async reschedule(id: number, state: ClaimState, attempts: number, atMs: number, error: string): Promise<boolean> {
    // Conditional on where the claim is now (RESCHEDULE_FROM) and on attempts not going back: a late failure of a
    // duplicate prover finds the claim proved (or further) and changes nothing.
    const r = this.db
      .prepare(
        `UPDATE worker_claims SET state = ?, attempts = ?, next_attempt_at_ms = ?, error = ?
         WHERE id = ? AND attempts <= ? AND state IN (SELECT value FROM json_each(?))`,
      )
      .run(state, attempts, atMs, error, id, attempts, JSON.stringify(RESCHEDULE_FROM[state]));
    return r.changes > 0;
  }

  async markFailed(id: number, error: string, attempts: number, now: number): Promise<boolean> {
    const r = this.db
      .prepare(
        "UPDATE worker_claims SET state = 'failed', error = ?, attempts = ?, updated_at_ms = ? WHERE id = ? AND state <> 'paid'",
      )
      .run(error, attempts, now, id);
    return r.changes > 0;
  }

  async claimState(id: number): Promise<{ state: ClaimState; attempts: number } | undefined> {
    return this.db.prepare("SELECT state, attempts FROM worker_claims WHERE id = ?").get(id) as
      { state: ClaimState; attempts: number } | undefined;
  }

  async claimAt(imageId: string, deviceId: string, epoch: bigint): Promise<ClaimRow | undefined> {
    return this.db
      .prepare("SELECT * FROM worker_claims WHERE image_id = ? AND device_id = ? AND epoch = ?")
      .get(imageId, deviceId, epoch.toString()) as ClaimRow | undefined;
  }

  async lastPaidEpoch(imageId: string, tokenId: bigint): Promise<bigint | undefined> {
    // epochs are decimal text (up to 2^80): the longest, then the largest, is the latest
    const row = this.db
      .prepare(
        `SELECT epoch FROM worker_claims WHERE ${OF_TOKEN} AND state = 'paid' ORDER BY length(epoch) DESC, epoch DESC LIMIT 1`,
      )
      .get(imageId, tokenId.toString(), tokenId.toString()) as { epoch: string } | undefined;
    return row ? BigInt(row.epoch) : undefined;
  }

  async tokenUnsettledEpochs(imageId: string, tokenId: bigint): Promise<bigint[]> {
    const rows = this.db
      .prepare(`SELECT epoch FROM worker_claims WHERE ${OF_TOKEN} AND state IN ('pending','proved','submitted')`)
      .all(imageId, tokenId.toString(), tokenId.toString()) as { epoch: string }[];
    return rows.map((r) => BigInt(r.epoch));
  }

  async tokenClaimAt(imageId: string, tokenId: bigint, epoch: bigint): Promise<ClaimRow | undefined> {
    return this.db
      .prepare(`SELECT * FROM worker_claims WHERE ${OF_TOKEN} AND epoch = ? LIMIT 1`)
      .get(imageId, tokenId.toString(), tokenId.toString(), epoch.toString()) as ClaimRow | undefined;
  }

  async unsettledEpochs(imageId: string, deviceId: string): Promise<bigint[]> {
    const rows = this.db
      .prepare(
        "SELECT epoch FROM worker_claims WHERE image_id = ? AND device_id = ? AND state IN ('pending','proved','submitted')",
      )
      .all(imageId, deviceId) as { epoch: string }[];
    return rows.map((r) => BigInt(r.epoch));
  }

  async getRun(id: number): Promise<RunRow | undefined> {
    return this.db.prepare("SELECT * FROM worker_runs WHERE id = ?").get(id) as RunRow | undefined;
  }

  async listRuns(limit = 50): Promise<RunRow[]> {
    return this.db.prepare("SELECT * FROM worker_runs ORDER BY id DESC LIMIT ?").all(limit) as RunRow[];
  }

  async listClaims(limit = 100): Promise<ClaimRow[]> {
    return this.db.prepare("SELECT * FROM worker_claims ORDER BY id DESC LIMIT ?").all(limit) as ClaimRow[];
  }

  async claimCounts(): Promise<Record<ClaimState, number>> {
    const out: Record<ClaimState, number> = { pending: 0, proved: 0, submitted: 0, paid: 0, failed: 0 };
    for (const r of this.db.prepare(WORKER_STATUS_SQL.claimStates).all() as { state: ClaimState; n: number }[])
      out[r.state] = r.n;
    return out;
  }

  private totalsRow() {
    return this.db.prepare(WORKER_STATUS_SQL.totals).get() as Record<string, number> | undefined;
  }

  async runCounts(): Promise<{ runs: number; trapped: number }> {
    const t = this.totalsRow();
    return { runs: t?.runs ?? 0, trapped: t?.trapped ?? 0 };
  }

  async trapCounts(): Promise<{ kind: string; n: number }[]> {
    return this.db.prepare(WORKER_STATUS_SQL.trapKinds).all() as { kind: string; n: number }[];
  }

  async totals(): Promise<WorkerTotals> {
    const t = this.totalsRow() ?? {};
    return {
      fuelUsed: t.fuel_used ?? 0,
      proveMs: t.prove_ms ?? 0,
      proofs: t.proofs ?? 0,
      gasUsed: t.gas_used ?? 0,
      paidClaims: t.claims ?? 0,
      rewardPaid: rewardOf(t),
    };
  }

  async payouts(limit: number): Promise<{ owners: number; rows: { owner: string; claims: number; reward: bigint }[] }> {
    const owners = (this.db.prepare(WORKER_STATUS_SQL.ownerCount).get() as { n: number }).n;
    const rows = (this.db.prepare(WORKER_STATUS_SQL.payouts).all(limit) as Record<string, unknown>[]).map((r) => ({
      owner: r.owner as string,
      claims: r.claims as number,
      reward: rewardOf(r),
    }));
    return { owners, rows };
  }

  async paidActivity(sinceMinute: number): Promise<PaidActivity> {
    const minutes = (this.db.prepare(WORKER_STATUS_SQL.paidMinutes).all(sinceMinute) as Record<string, unknown>[]).map(
      (r) => ({ minute: r.minute as number, claims: r.claims as number, reward: rewardOf(r) }),
    );
    const t = await this.totals();
    return { claims: t.paidClaims, reward: t.rewardPaid, minutes };
  }

  async oldestPending(): Promise<number | null> {
    return (this.db.prepare(WORKER_STATUS_SQL.oldestPending).get() as { at: number | null }).at;
  }

  async proveHistogram(): Promise<ProveHistogram[]> {
    const sums = this.db.prepare(WORKER_STATUS_SQL.proveSums).all() as { circuit: string; n: number; ms: number }[];
    const buckets = this.db.prepare(WORKER_STATUS_SQL.proveBuckets).all() as {
      circuit: string;
      le: number;
      n: number;
    }[];
    return sums.map((s) => ({
      circuit: s.circuit,
      count: s.n,
      sumMs: s.ms,
      buckets: PROVE_BUCKETS.map((le) => ({
        le,
        n: buckets.find((b) => b.circuit === s.circuit && b.le === le)?.n ?? 0,
      })),
    }));
  }

  async listBatches(limit = 50): Promise<BatchRow[]> {
    return new SqliteBatchStore(this.db).listBatches(limit);
  }

  async applets(): Promise<AppletSummary[]> {
    return (this.db.prepare(WORKER_STATUS_SQL.applets).all() as AppletSummary[]).map((a) => ({ ...a }));
  }
}

/**
 * What WorkerStatus reads: only the trigger-kept totals of ./worker-counters.ts and index lookups, never a scan of
 * worker_runs or worker_claims (open.test.ts checks the plans).
 */
export const WORKER_STATUS_SQL = {
  claimStates: "SELECT state, n FROM worker_claim_states",
  totals: "SELECT * FROM worker_totals WHERE id = 0",
  trapKinds: "SELECT kind, n FROM worker_trap_kinds WHERE n > 0",
  ownerCount: "SELECT count(*) AS n FROM worker_payouts",
  payouts: "SELECT * FROM worker_payouts ORDER BY approx DESC LIMIT ?",
  paidMinutes: "SELECT * FROM worker_paid_minutes WHERE minute >= ? ORDER BY minute",
  oldestPending: "SELECT min(created_at_ms) AS at FROM worker_claims WHERE state = 'pending'",
  proveSums: "SELECT circuit, n, ms FROM worker_prove_sums",
  proveBuckets: "SELECT circuit, le, n FROM worker_prove_buckets",
  applets:
    "SELECT a.image_id AS imageId, a.name, coalesce(t.runs, 0) AS runs, coalesce(t.trapped, 0) AS trapped, coalesce(t.fuel_used, 0) AS fuelUsed, a.quarantined FROM worker_applets a LEFT JOIN worker_applet_totals t ON t.image_id = a.image_id ORDER BY a.added_at_ms, a.image_id",
} as const;

/** Issue 18: a token's claims, under any of its keys (a claim stored before token_id: its device id is the token). */
const OF_TOKEN = "image_id = ? AND (token_id = ? OR (token_id IS NULL AND device_id = ?))";
