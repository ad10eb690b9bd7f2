import { describe, expect, it } from "vitest";
import { genesisHash, hashReading, padValues, type SignedReading } from "../../device-sdk/index.ts";
import { openStore } from "../../store/index.ts";
import { loadDashboard } from "./data.ts";

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
    const d = await loadDashboard({ readings: store, worker: store.worker }, now);
    expect(d.readingsTotal).toBe(await store.countReadings());
    expect(d.readingsTotal).toBe(10);
    expect(d.devices.map((x) => [x.deviceId, x.readings, x.lastSeq])).toEqual([
      ["1", 3, 3],
      ["2", 7, 7],
    ]);
    expect(d.readingsSeries.at(-1)).toEqual({ t: 100 * minute, n: 2 });
    expect(d.readingsSeries.at(-2)).toEqual({ t: 99 * minute, n: 8 });
    expect(d.readingsPerSecond).toBeCloseTo((2 + 8 * 0.5) / 60);
    await store.close();
  });
});
