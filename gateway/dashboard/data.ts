/**
 * What the dashboard shows, read through the store's interfaces (readings) and the worker's status. Every read is
 * bounded: counts and sums come from the store's running counters, lists are capped at `limit` with their true totals
 * beside them ("25 of 40"), and the store's tests check the query plans. createDashboardLoader adds a short cache, so
 * any number of open tabs costs one build per `cacheMs`.
 */
import { unpackEpoch } from "../../device-sdk/index.ts";
import type { ClaimState, ReadingStore, WorkerStatus } from "../../store/index.ts";
import type { KeyStatusReader } from "../chain-keys.ts";
import { loadBatches, type DashboardBatch } from "./batches.tsx";

export interface DashboardData {
  now: number;
  /** What needs attention; `ok` is false when any check is not "ok" or any problem is listed. */
  health: {
    ok: boolean;
    /** /readyz's checks (database, verifier, chain when configured), when the gateway gave them. */
    checks: Record<string, string>;
    /** Sentences for the banner: what is wrong and where to look. */
    problems: string[];
    oldestPendingAt: number | null;
    failedClaims: number;
    staleDevices: { count: number; devices: string[]; afterMs: number };
  };
  /** Registered devices in all; `devices` lists the first `limit` (registration order). */
  devicesTotal: number;
  devices: {
    deviceId: string;
    /** The device token's owner on L1 when the gateway follows DeviceRegistry (a sale shows), else the registration's. */
    owner: string;
    /** "revoked" when L1 no longer holds this key valid (revoked, or replaced by a rotation); absent: valid or unknown. */
    key?: "revoked";
    readings: number;
    lastSeq: number | null;
    lastTs: number | null;
    lastValues: string[];
  }[];
  readingsTotal: number;
  readingsPerSecond: number;
  /**
   * Readings received per complete minute (oldest first; the current minute is not in it), over the last hour from
   * the first minute with readings or a payout (chartStart).
   */
  readingsSeries: { t: number; n: number }[];
  applets: { imageId: string; name: string; runs: number; trapped: number; fuelUsed: number }[];
  /** The latest `limit` runs, newest first; runCounts.runs is how many there are. */
  runs: {
    id: number;
    imageId: string;
    applet: string | null;
    deviceId: string;
    epoch: string;
    epochStart: number;
    epochEnd: number;
    readings: number;
    fuelUsed: number;
    trap: string | null;
    at: number;
  }[];
  runCounts: { runs: number; trapped: number };
  /** The latest `limit` claims, newest first; claimsTotal is how many there are. */
  claims: {
    id: number;
    runId: number;
    imageId: string;
    applet: string | null;
    deviceId: string;
    epochStart: number;
    epochEnd: number;
    output: string;
    state: string;
    txHash: string | null;
    /** In the reward token's smallest unit (18 decimals), as a decimal string. */
    reward: string | null;
    gasUsed: number | null;
    error: string | null;
    createdAt: number | null;
  }[];
  claimCounts: Record<ClaimState, number>;
  claimsTotal: number;
  /** Claims by state, sampled by this gateway each minute it built the page (oldest first; since it started). */
  claimsSeries: ({ t: number } & Record<ClaimState, number>)[];
  /** Reward paid in all (smallest unit, decimal string). */
  rewardPaid: string;
  /** Per owner, largest first (at most `limit`); payoutOwners is how many owners were paid. */
  payouts: { owner: string; claims: number; reward: string }[];
  payoutOwners: number;
  /** Cumulative reward paid at the end of each minute of readingsSeries' window (smallest unit, decimal strings). */
  rewardSeries: { t: number; total: string }[];
  /**
   * Readings stored, resent (answered again with their original ack) and requests or messages refused, per transport
   * (HTTP, MQTT), counted by this gateway process since it started (its /metrics counters); null without metrics.
   */
  transports: { transport: string; readings: number; resent: number; rejected: number }[] | null;
  /** Issue 26: the latest `limit` batches, newest first (./batches.tsx). */
  batches: DashboardBatch[];
  /** Proving time per circuit; `applet` names an applet circuit's applet (its circuit is applet_<imageId>_k<K>). */
  proving: { circuit: string; applet: string | null; k: number | null; proofs: number; meanMs: number }[];
}

const MINUTE = 60_000;

/**
 * The charts' first minute: the window fits the data. From the first minute of the last hour with readings or a payout
 * (at least the last two complete minutes, so a line is drawn); an hour without either is shown whole, flat. The
 * window ends at the last complete minute (`cur` − 1): a half-finished minute would look like a drop.
 */
export function chartStart(first: number, cur: number, hasData: (minute: number) => boolean): number {
  for (let m = first; m < cur; m++) if (hasData(m)) return Math.min(m, cur - 2);
  return first;
}

/** Where the dashboard reads from: the readings (devices, activity), the worker's status and /readyz's checks. */
export interface DashboardSources {
  readings: Pick<ReadingStore, "listDeviceHeads" | "readingActivity" | "deviceCount" | "staleDevices">;
  worker: WorkerStatus;
  /** The readiness checks (name → "ok" or why not); absent: none shown. */
  checks?: () => Promise<Record<string, string>>;
  /** L1's view of each listed device's key (chain-keys.ts, cached there): its token's owner, revoked or not. */
  keys?: KeyStatusReader;
  /** Ingest per transport from the gateway's counters (metrics.ts ingestByTransport); absent: not shown. */
  transports?: () => Promise<Record<string, { readings: number; resent: number; rejected: number }>>;
}

export interface LoadDashboardOptions {
  now?: number;
  /** Rows per table (default 25). */
  limit?: number;
  /** A device is "stopped reporting" when its newest reading is older than this (default 10 minutes). */
  staleAfterMs?: number;
  /** Claims by state per minute, kept between builds (createDashboardLoader keeps one). */
  history?: Map<number, Record<ClaimState, number>>;
}

export async function loadDashboard(src: DashboardSources, opts: LoadDashboardOptions = {}): Promise<DashboardData> {
  const now = opts.now ?? Date.now();
  const limit = opts.limit ?? 25;
  const staleAfterMs = opts.staleAfterMs ?? 10 * MINUTE;
  const w = src.worker;
  const cur = Math.floor(now / MINUTE);
  // The last 60 complete minutes: a half-finished current minute would look like a drop.
  const first = cur - 60;
  const [heads, devicesTotal, activity, stale, checks, applets, runRows, claimRows, claimCounts, runCounts] =
    await Promise.all([
      src.readings.listDeviceHeads(limit),
      src.readings.deviceCount(),
      src.readings.readingActivity(first),
      src.readings.staleDevices(now - staleAfterMs, 5),
      src.checks ? src.checks().catch((e: Error) => ({ gateway: `checks failed: ${e.message}` })) : {},
      w.applets(),
      w.listRuns(limit),
      w.listClaims(limit),
      w.claimCounts(),
      w.runCounts(),
    ]);
  const [payouts, paid, oldestPendingAt, hist, transports] = await Promise.all([
    w.payouts(limit),
    w.paidActivity(first),
    w.oldestPending(),
    w.proveHistogram(),
    src.transports?.(),
  ]);
  const names = new Map(applets.map((a) => [a.imageId, a.name]));
  const nameOf = (imageId: string) => names.get(imageId) ?? names.get(`0x${imageId}`) ?? null;
  const windowOf = (epoch: string) => {
    const e = unpackEpoch(BigInt(epoch));
    return { start: Number(e.startMs), end: Number(e.startMs + e.lengthMs) };
  };

  const buckets = new Map(activity.minutes.map((r) => [r.minute, r.n]));
  // The last 60 s from minute counts: this minute so far plus the part of the previous minute still inside the window.
  const recent = (buckets.get(cur) ?? 0) + (buckets.get(cur - 1) ?? 0) * (1 - (now % MINUTE) / MINUTE);
  const paidIn = new Map(paid.minutes.map((m) => [m.minute, m.reward]));
  const start = chartStart(first, cur, (m) => !!buckets.get(m) || paidIn.has(m));
  const readingsSeries = Array.from({ length: cur - start }, (_, i) => ({
    t: (start + i) * MINUTE,
    n: buckets.get(start + i) ?? 0,
  }));

  // Cumulative reward at the end of each minute: the total, minus what was paid in the minutes after it.
  let after = paid.minutes.filter((m) => m.minute >= cur).reduce((a, m) => a + m.reward, 0n);
  const rewardSeries: DashboardData["rewardSeries"] = [];
  for (let m = cur - 1; m >= start; m--) {
    rewardSeries.unshift({ t: m * MINUTE, total: (paid.reward - after).toString() });
    after += paidIn.get(m) ?? 0n;
  }

  const history = opts.history;
  const claimsTotal = Object.values(claimCounts).reduce((a, n) => a + n, 0);
  if (history) {
    history.set(cur, claimCounts);
    for (const m of history.keys()) if (m < first) history.delete(m);
  }

  const problems: string[] = [];
  for (const [name, v] of Object.entries(checks)) if (v !== "ok") problems.push(`${name}: ${v}`);
  if (claimCounts.failed > 0) problems.push(`${claimCounts.failed} failed claim${claimCounts.failed > 1 ? "s" : ""}`);
  if (oldestPendingAt !== null && now - oldestPendingAt > 10 * MINUTE)
    problems.push(`a claim has been pending for ${Math.round((now - oldestPendingAt) / MINUTE)} minutes`);
  if (stale.count > 0)
    problems.push(
      `${stale.count} device${stale.count > 1 ? "s" : ""} stopped reporting (nothing for ${Math.round(staleAfterMs / MINUTE)} minutes)`,
    );

  return {
    now,
    health: {
      ok: problems.length === 0,
      checks,
      problems,
      oldestPendingAt,
      failedClaims: claimCounts.failed,
      staleDevices: { ...stale, afterMs: staleAfterMs },
    },
    devicesTotal,
    devices: await Promise.all(
      heads.map(async (d) => {
        const k = src.keys && (await src.keys.keyStatus(BigInt(d.deviceId)).catch(() => undefined));
        return {
          ...d,
          ...(k?.onChain && k.owner ? { owner: k.owner } : {}),
          ...(k?.onChain && !k.valid ? { key: "revoked" as const } : {}),
          readings: d.lastSeq ?? 0,
        };
      }),
    ),
    readingsTotal: activity.total,
    readingsPerSecond: recent / 60,
    readingsSeries,
    applets,
    runs: runRows.map((r) => {
      const e = windowOf(r.epoch);
      return {
        id: r.id,
        imageId: r.image_id,
        applet: nameOf(r.image_id),
        deviceId: r.device_id,
        epoch: r.epoch,
        epochStart: e.start,
        epochEnd: e.end,
        readings: r.reading_count,
        fuelUsed: r.fuel_used,
        trap: r.trap,
        at: r.created_at_ms,
      };
    }),
    runCounts,
    claims: claimRows.map((c) => {
      const e = windowOf(c.epoch);
      return {
        id: c.id,
        runId: c.run_id,
        imageId: c.image_id,
        applet: nameOf(c.image_id),
        deviceId: c.device_id,
        epochStart: e.start,
        epochEnd: e.end,
        output: c.output,
        state: c.state,
        txHash: c.tx_hash,
        reward: c.reward,
        gasUsed: c.gas_used,
        error: c.error,
        createdAt: c.created_at_ms ?? null,
      };
    }),
    claimCounts,
    claimsTotal,
    claimsSeries: history ? [...history].sort(([a], [b]) => a - b).map(([m, c]) => ({ t: m * MINUTE, ...c })) : [],
    rewardPaid: paid.reward.toString(),
    payouts: payouts.rows.map((p) => ({ owner: p.owner, claims: p.claims, reward: p.reward.toString() })),
    payoutOwners: payouts.owners,
    rewardSeries,
    batches: await loadBatches(w, limit, nameOf),
    transports: transports ? Object.entries(transports).map(([transport, v]) => ({ transport, ...v })) : null,
    proving: hist.map((h) => {
      const m = /^applet_([0-9a-f]+)_k(\d+)$/.exec(h.circuit);
      const a = m ? applets.find((x) => x.imageId.replace(/^0x/, "").startsWith(m[1]!)) : undefined;
      return {
        circuit: h.circuit,
        applet: a?.name ?? null,
        k: m ? Number(m[2]) : null,
        proofs: h.count,
        meanMs: h.count ? h.sumMs / h.count : 0,
      };
    }),
  };
}

/**
 * One dashboard build shared by every request within `cacheMs` (default 2 s; requests during a build wait for it),
 * and the claims-by-state history the charts draw.
 */
export function createDashboardLoader(
  src: DashboardSources,
  opts: Omit<LoadDashboardOptions, "now" | "history"> & { cacheMs?: number } = {},
) {
  const history = new Map<number, Record<ClaimState, number>>();
  const cacheMs = opts.cacheMs ?? 2000;
  let last: { at: number; data: Promise<DashboardData> } | undefined;
  return (): Promise<DashboardData> => {
    const now = Date.now();
    if (last && now - last.at < cacheMs) return last.data;
    const data = loadDashboard(src, { ...opts, now, history });
    last = { at: now, data };
    // A failed build is not kept.
    data.catch(() => {
      if (last?.data === data) last = undefined;
    });
    return data;
  };
}
