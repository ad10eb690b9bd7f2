import { describe, expect, it } from "vitest";
import { genesisHash, hashReading, padValues, type SignedReading } from "../../device-sdk/index.ts";
import { openStore } from "../../store/index.ts";
import { chartStart, createDashboardLoader, loadDashboard } from "./data.ts";

function chain(deviceId: bigint, n: number, seq0 = 1, prev = genesisHash(deviceId)): SignedReading[] {
  return Array.from({ length: n }, (_, i) => {
    const r = { deviceId, seq: BigInt(seq0 + i), ts: BigInt(1000 * (seq0 + i)), values: padValues([BigInt(i)]), prev };
    prev = hashReading(r);
    return { ...r, hash: prev, signature: { R8x: 1n, R8y: 2n, S: 3n } };
  });
}

describe("dashboard data", () => {
  it("counts readings from the store's counters, heads per device, activity per minute (the query plans: store/sqlite)", async () => {
    const store = openStore(":memory:");
    // The counters agree with the rows, including after an append of several groups.
    const minute = 60_000;
    const now = 100 * minute + 30_000;
    for (const [id, n] of [
      [1n, 3],
      [2n, 5],
    ] as const) {
      await store.insertDevice({
        deviceId: id,
        publicKey: { x: id, y: 1n },
        owner: `0x${"1".repeat(39)}${id}`,
        chainId: 31337n,
        registry: "0x" + "0".repeat(40),
        signature: { R8x: 1n, R8y: 2n, S: 3n },
        registeredAt: 0,
      });
      expect((await store.appendReadings(id, chain(id, n), now - minute)).ok).toBe(true);
    }
    const c2 = chain(2n, 7);
    expect((await store.appendReadings(2n, c2.slice(5), now)).ok).toBe(true);
    const transports = async () => ({
      http: { readings: 7, resent: 2, rejected: 1 },
      mqtt: { readings: 3, resent: 0, rejected: 0 },
    });
    const d = await loadDashboard({ readings: store, worker: store.worker, transports }, { now, limit: 1 });
    // Ingest split by transport, as the gateway's counters give it; none without metrics.
    expect(d.transports).toEqual([
      { transport: "http", readings: 7, resent: 2, rejected: 1 },
      { transport: "mqtt", readings: 3, resent: 0, rejected: 0 },
    ]);
    expect(d.readingsTotal).toBe(await store.countReadings());
    expect(d.readingsTotal).toBe(10);
    // Capped at limit 1, the true count beside it.
    expect(d.devicesTotal).toBe(2);
    expect(d.devices.map((x) => [x.deviceId, x.readings, x.lastSeq])).toEqual([["1", 3, 3]]);
    const all = await loadDashboard({ readings: store, worker: store.worker }, { now });
    expect(all.transports).toBeNull();
    expect(all.devices.map((x) => [x.deviceId, x.readings, x.lastSeq])).toEqual([
      ["1", 3, 3],
      ["2", 7, 7],
    ]);
    // Complete minutes only: the current one (2 readings so far) would look like a drop. The window fits the data:
    // readings began in minute 99, so no empty hour before it (two minutes at least, so a line is drawn).
    expect(d.readingsSeries).toEqual([
      { t: 98 * minute, n: 0 },
      { t: 99 * minute, n: 8 },
    ]);
    expect(d.rewardSeries.map((r) => r.t)).toEqual([98 * minute, 99 * minute]);
    expect(d.readingsPerSecond).toBeCloseTo((2 + 8 * 0.5) / 60);
    // Nothing for 10 minutes: both devices stopped reporting; a readiness check down shows in the banner.
    const later = await loadDashboard(
      {
        readings: store,
        worker: store.worker,
        checks: async () => ({ database: "ok", chain: "unreachable: ECONNREFUSED" }),
      },
      { now: now + 11 * minute },
    );
    expect(later.health.ok).toBe(false);
    expect(later.health.staleDevices).toMatchObject({ count: 2, devices: ["1", "2"] });
    expect(later.health.problems).toEqual([
      "chain: unreachable: ECONNREFUSED",
      "2 devices stopped reporting (nothing for 10 minutes)",
    ]);
    expect(d.health).toMatchObject({ ok: true, problems: [] });
    await store.close();
  });

  it("fits the charts' window to the data: from the first minute with data, the whole hour when there is none", () => {
    const has = (ms: number[]) => (m: number) => ms.includes(m);
    expect(chartStart(40, 100, has([70, 71, 99]))).toBe(70);
    expect(chartStart(40, 100, has([40]))).toBe(40);
    expect(chartStart(40, 100, has([99]))).toBe(98);
    expect(chartStart(40, 100, has([]))).toBe(40);
    // the current minute (100) is not complete: data only there leaves the hour whole
    expect(chartStart(40, 100, has([100]))).toBe(40);
  });

  it("shares one build among requests within the cache time", async () => {
    const store = openStore(":memory:");
    let builds = 0;
    const src = {
      readings: store,
      worker: store.worker,
      checks: async () => {
        builds++;
        return { database: "ok" };
      },
    };
    const load = createDashboardLoader(src, { cacheMs: 60_000 });
    const [a, b] = await Promise.all([load(), load()]);
    expect(a).toBe(b);
    await load();
    expect(builds).toBe(1);
    const fresh = createDashboardLoader(src, { cacheMs: 0 });
    await fresh();
    await fresh();
    expect(builds).toBe(3);
    await store.close();
  });
});
