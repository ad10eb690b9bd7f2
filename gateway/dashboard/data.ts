/** What the dashboard shows, read through the store's interfaces (readings) and the worker's status. */
import type { ReadingStore, WorkerStatus } from "../../store/index.ts";

export interface DashboardData {
  now: number;
  devices: {
    deviceId: string;
    owner: string;
    readings: number;
    lastSeq: number | null;
    lastTs: number | null;
    lastValues: string[];
  }[];
  readingsTotal: number;
  readingsPerSecond: number;
  /** Readings received per minute over the last hour (oldest first). */
  readingsSeries: { t: number; n: number }[];
  runs: {
    id: number;
    imageId: string;
    deviceId: string;
    epoch: string;
    readings: number;
    fuelUsed: number;
    trap: string | null;
    at: number;
  }[];
  runCounts: { runs: number; trapped: number };
  claims: {
    id: number;
    runId: number;
    deviceId: string;
    output: string;
    state: string;
    txHash: string | null;
    reward: string | null;
    gasUsed: number | null;
    error: string | null;
  }[];
  claimCounts: Record<string, number>;
  payouts: { owner: string; claims: number; reward: string }[];
  /** Cumulative reward paid, per minute bucket, over the last hour. */
  rewardSeries: { t: number; total: number }[];
}

const MINUTE = 60_000;

/** Where the dashboard reads from: the readings (devices, activity) and the worker's status. */
export interface DashboardSources {
  readings: Pick<ReadingStore, "listDeviceHeads" | "readingActivity">;
  worker: WorkerStatus;
}

/** Every read is bounded (the store's implementation keeps them off full scans; its tests check the query plans). */
export async function loadDashboard(src: DashboardSources, now = Date.now(), limit = 25): Promise<DashboardData> {
  const w = src.worker;
  const devices = (await src.readings.listDeviceHeads(limit)).map((d) => ({ ...d, readings: d.lastSeq ?? 0 }));
  const since = now - 60 * MINUTE;
  const activity = await src.readings.readingActivity(Math.floor(since / MINUTE));
  const readingsTotal = activity.total;
  const buckets = new Map(activity.minutes.map((r) => [r.minute, r.n]));
  // The last 60 s from minute counts: this minute so far plus the part of the previous minute still inside the window.
  const cur = Math.floor(now / MINUTE);
  const recent = (buckets.get(cur) ?? 0) + (buckets.get(cur - 1) ?? 0) * (1 - (now % MINUTE) / MINUTE);
  const first = Math.floor(since / MINUTE) + 1;
  const readingsSeries = Array.from({ length: 60 }, (_, i) => ({
    t: (first + i) * MINUTE,
    n: buckets.get(first + i) ?? 0,
  }));

  const runs = (await w.listRuns(limit)).map((r) => ({
    id: r.id,
    imageId: r.image_id,
    deviceId: r.device_id,
    epoch: r.epoch,
    readings: r.reading_count,
    fuelUsed: r.fuel_used,
    trap: r.trap,
    at: r.created_at_ms,
  }));
  const claims = (await w.listClaims(limit)).map((c) => ({
    id: c.id,
    runId: c.run_id,
    deviceId: c.device_id,
    output: c.output,
    state: c.state,
    txHash: c.tx_hash,
    reward: c.reward,
    gasUsed: c.gas_used,
    error: c.error,
  }));

  // Rewards are uint256 strings: summed as bigint here, not in SQL (which would overflow to floats).
  const paid = await w.paidClaims();
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
    runCounts: await w.runCounts(),
    claims,
    claimCounts: await w.claimCounts(),
    payouts: [...byOwner]
      .map(([owner, v]) => ({ owner, claims: v.claims, reward: v.reward.toString() }))
      .sort((a, b) => (BigInt(b.reward) > BigInt(a.reward) ? 1 : -1)),
    rewardSeries,
  };
}
