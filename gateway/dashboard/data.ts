/** What the dashboard shows, read straight from the gateway's and the worker's tables (one SQLite database). */
import type { WorkerStore } from "../../worker/store.ts";

export interface DashboardData {
  now: number;
  devices: { deviceId: string; owner: string; readings: number; lastSeq: number | null; lastTs: number | null; lastValues: string[] }[];
  readingsTotal: number;
  readingsPerSecond: number;
  /** Readings received per minute over the last hour (oldest first). */
  readingsSeries: { t: number; n: number }[];
  runs: { id: number; imageId: string; deviceId: string; epoch: string; readings: number; fuelUsed: number; trap: string | null; at: number }[];
  runCounts: { runs: number; trapped: number };
  claims: { id: number; runId: number; deviceId: string; output: string; state: string; txHash: string | null; reward: string | null; gasUsed: number | null; error: string | null }[];
  claimCounts: Record<string, number>;
  payouts: { owner: string; claims: number; reward: string }[];
  /** Cumulative reward paid, per minute bucket, over the last hour. */
  rewardSeries: { t: number; total: number }[];
}

const MINUTE = 60_000;

/**
 * Every query the dashboard runs. None may scan `readings` (a test checks the plans): a device's reading count is its
 * head's seq (chains start at 1 and have no gaps), totals and per-minute counts come from the trigger-kept counters
 * (store/counters.ts), and each head is one primary-key lookup.
 */
export const DASHBOARD_SQL = {
  devices: `SELECT d.device_id AS deviceId, d.owner, l.seq AS lastSeq, l.ts AS lastTs, l.vals AS vals
            FROM devices d LEFT JOIN readings l ON l.device_id = d.device_id AND l.seq = (SELECT max(seq) FROM readings m WHERE m.device_id = d.device_id)
            ORDER BY d.n LIMIT ?`,
  total: "SELECT n FROM reading_total WHERE id = 0",
  minutes: "SELECT minute AS b, n FROM reading_minutes WHERE minute >= ?",
  paid: "SELECT d.owner AS owner, c.reward AS reward, c.updated_at_ms AS at FROM worker_claims c LEFT JOIN devices d ON d.device_id = c.device_id WHERE c.state = 'paid' ORDER BY c.updated_at_ms",
} as const;

export function loadDashboard(w: WorkerStore, now = Date.now(), limit = 25): DashboardData {
  const db = w.db;
  const devices = (db.prepare(DASHBOARD_SQL.devices).all(limit) as { deviceId: string; owner: string; lastSeq: number | null; lastTs: number | null; vals: string | null }[]).map(({ vals, ...d }) => ({
    ...d,
    readings: d.lastSeq ?? 0,
    lastValues: vals ? (JSON.parse(vals) as unknown[]).map(String) : [],
  }));
  const readingsTotal = (db.prepare(DASHBOARD_SQL.total).get() as { n: number } | undefined)?.n ?? 0;
  const since = now - 60 * MINUTE;
  const buckets = new Map((db.prepare(DASHBOARD_SQL.minutes).all(Math.floor(since / MINUTE)) as { b: number; n: number }[]).map((r) => [r.b, r.n]));
  // The last 60 s from minute counts: this minute so far plus the part of the previous minute still inside the window.
  const cur = Math.floor(now / MINUTE);
  const recent = (buckets.get(cur) ?? 0) + (buckets.get(cur - 1) ?? 0) * (1 - (now % MINUTE) / MINUTE);
  const first = Math.floor(since / MINUTE) + 1;
  const readingsSeries = Array.from({ length: 60 }, (_, i) => ({ t: (first + i) * MINUTE, n: buckets.get(first + i) ?? 0 }));

  const runs = w.listRuns(limit).map((r) => ({ id: r.id, imageId: r.image_id, deviceId: r.device_id, epoch: r.epoch, readings: r.reading_count, fuelUsed: r.fuel_used, trap: r.trap, at: r.created_at_ms }));
  const claims = w.listClaims(limit).map((c) => ({ id: c.id, runId: c.run_id, deviceId: c.device_id, output: c.output, state: c.state, txHash: c.tx_hash, reward: c.reward, gasUsed: c.gas_used, error: c.error }));

  // Rewards are uint256 strings: summed as bigint here, not in SQL (which would overflow to floats).
  const paid = db.prepare(DASHBOARD_SQL.paid).all() as { owner: string | null; reward: string | null; at: number }[];
  const byOwner = new Map<string, { claims: number; reward: bigint }>();
  let running = 0n;
  const rewardBuckets = new Map<number, bigint>();
  let before = 0n;
  for (const p of paid) {
    const r = BigInt(p.reward ?? "0");
    const o = byOwner.get(p.owner ?? "unknown") ?? { claims: 0, reward: 0n };
    o.claims++;
    o.reward += r;
    byOwner.set(p.owner ?? "unknown", o);
    running += r;
    if (p.at < since) before = running;
    else rewardBuckets.set(Math.floor(p.at / MINUTE), running);
  }
  let acc = before;
  const rewardSeries = Array.from({ length: 60 }, (_, i) => {
    acc = rewardBuckets.get(first + i) ?? acc;
    return { t: (first + i) * MINUTE, total: Number(acc) };
  });

  return {
    now,
    devices,
    readingsTotal,
    readingsPerSecond: recent / 60,
    readingsSeries,
    runs,
    runCounts: w.runCounts(),
    claims,
    claimCounts: w.claimCounts(),
    payouts: [...byOwner].map(([owner, v]) => ({ owner, claims: v.claims, reward: v.reward.toString() })).sort((a, b) => (BigInt(b.reward) > BigInt(a.reward) ? 1 : -1)),
    rewardSeries,
  };
}
