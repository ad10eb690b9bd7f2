/**
 * One behaviour suite for every implementation of the store interfaces (ReadingStore, NonceStore, WorkerStore):
 * ./store.test.ts runs it against SQLite and against a real Postgres server. A backend gives a fresh location per test
 * and opens it; opening the same location twice gives two independent handles (two connections, as two processes
 * would have), which is how the concurrency and reopen cases are written.
 */
import { describe, expect, it } from "vitest";
import type { SignedReading } from "../device-sdk/index.ts";
import type { DeviceRecord, StoreSet } from "./types.ts";
import type { AppletSpec, RunOutcome } from "./worker-types.ts";

export interface StoreBackend {
  name: string;
  /** A new empty location (file path or database URL). */
  fresh(): Promise<string>;
  /** Open the store at `location`; each call is a new handle. */
  open(location: string): Promise<StoreSet>;
}

export const device = (id: bigint, owner = "0xaaa", n = 0): DeviceRecord => ({
  deviceId: id,
  publicKey: { x: id, y: 7n },
  owner,
  chainId: 31337n,
  registry: "0x0000000000000000000000000000000000000001",
  signature: { R8x: 1n, R8y: 2n, S: 3n },
  registeredAt: 1_000 + n,
});

/** A well-linked synthetic chain: hash = a value derived from (device, seq, fork), prev = the previous one's hash. */
export function chain(deviceId: bigint, from: bigint, count: number, prev: bigint, fork = 0n): SignedReading[] {
  const out: SignedReading[] = [];
  let p = prev;
  for (let i = 0; i < count; i++) {
    const seq = from + BigInt(i);
    const hash = (deviceId << 64n) + (seq << 16n) + fork + 1n;
    out.push({
      deviceId,
      seq,
      ts: 1_700_000_000n + seq,
      values: [seq * 10n, 2n ** 200n + fork],
      prev: p,
      hash,
      signature: fork % 2n === 0n ? { R8x: 11n, R8y: 12n, S: 13n } : null,
    });
    p = hash;
  }
  return out;
}

const applet = (name: string, hex: string): AppletSpec => ({
  imageId: `0x${hex.repeat(64)}`,
  name,
  wasm: new Uint8Array([0, 97, 115, 109]),
  rewardPerUnit: 3n,
  schedule: { lengthMs: 60_000, genesisMs: 0 },
});
const outcome = (fuel: bigint, trap?: string): RunOutcome => ({
  inputDigest: "0xin",
  journal: new Uint8Array([1, 2, 3]),
  journalDigest: "0xjd",
  fuelUsed: fuel,
  stateRoot: "0xroot",
  state: new Uint8Array([9, Number(fuel % 256n)]),
  ...(trap ? { trap: { kind: trap, message: "boom" } } : {}),
  claims: [],
});
// Beyond 2^63 and a float's 53-bit mantissa: sums must stay exact.
const BIG = 123_456_789_012_345_678_901_234_567n;

export function storeSuite(b: StoreBackend): void {
  const withStore = async (f: (s: StoreSet, location: string) => Promise<void>) => {
    const location = await b.fresh();
    const s = await b.open(location);
    try {
      await f(s, location);
    } finally {
      await s.close();
    }
  };

  describe(`store suite: ${b.name}`, () => {
    it("devices: registered once (a repeat returns the first record), listed in registration order, paged", () =>
      withStore(async (s) => {
        for (let i = 1; i <= 5; i++)
          expect((await s.insertDevice(device(BigInt(i) * 1000n, "0xaaa", i))).created).toBe(true);
        const again = await s.insertDevice({ ...device(2000n, "0xbbb", 99) });
        expect(again.created).toBe(false);
        expect(again.device).toEqual(device(2000n, "0xaaa", 2));
        expect(await s.getDevice(3000n)).toEqual(device(3000n, "0xaaa", 3));
        expect(await s.getDevice(42n)).toBeUndefined();
        expect((await s.listDevices()).map((d) => d.deviceId)).toEqual([1000n, 2000n, 3000n, 4000n, 5000n]);
        expect((await s.listDevices({ after: 2000n, limit: 2 })).map((d) => d.deviceId)).toEqual([3000n, 4000n]);
        expect(await s.deviceCount()).toBe(5);
        // A field-sized device id round-trips.
        const huge = 2n ** 250n + 12345n;
        await s.insertDevice(device(huge));
        expect((await s.getDevice(huge))?.deviceId).toBe(huge);
      }));

    it("appends extend the stored head only: seq 1 first, then head + 1 with prev = head's hash", () =>
      withStore(async (s) => {
        const c = chain(7n, 1n, 6, 0n);
        expect(await s.appendReadings(7n, [c[1]!], 10)).toEqual({ ok: false, head: undefined });
        const first = await s.appendReadings(7n, c.slice(0, 3), 10);
        expect(first.ok).toBe(true);
        if (first.ok) expect(first.readings.map((r) => r.receivedAt)).toEqual([10, 10, 10]);
        const head = { seq: 3n, hash: c[2]!.hash };
        // A gap, a resend of a stored seq, a fork (right seq, wrong prev): refused with the head, nothing written.
        expect(await s.appendReadings(7n, [c[4]!], 11)).toEqual({ ok: false, head });
        expect(await s.appendReadings(7n, [c[2]!], 11)).toEqual({ ok: false, head });
        expect(await s.appendReadings(7n, chain(7n, 4n, 1, 999n, 1n), 11)).toEqual({ ok: false, head });
        expect(await s.countReadings(7n)).toBe(3);
        expect((await s.appendReadings(7n, c.slice(3), 12)).ok).toBe(true);
        expect(await s.appendReadings(7n, [], 13)).toEqual({ ok: true, readings: [] });
        expect(await s.countReadings(7n)).toBe(6);
        expect(await s.countReadings()).toBe(6);
        const last = await s.lastReading(7n);
        expect(last).toEqual({ ...c[5]!, receivedAt: 12 });
        expect(await s.getReading(7n, 2n)).toEqual({ ...c[1]!, receivedAt: 10 });
        expect(await s.getReading(7n, 0n)).toBeUndefined();
        expect(await s.getReading(7n, 2n ** 70n)).toBeUndefined();
        expect(await s.lastReading(8n)).toBeUndefined();
      }));

    it("lists readings by seq and ts ranges, ascending, limited", () =>
      withStore(async (s) => {
        const c = chain(9n, 1n, 10, 0n);
        await s.appendReadings(9n, c, 5);
        const seqs = async (q: Omit<Parameters<StoreSet["listReadings"]>[0], "deviceId">) =>
          (await s.listReadings({ deviceId: 9n, ...q })).map((r) => Number(r.seq));
        expect(await seqs({})).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        expect(await seqs({ fromSeq: 3n, toSeq: 5n })).toEqual([3, 4, 5]);
        expect(await seqs({ fromTs: 1_700_000_008n })).toEqual([8, 9, 10]);
        expect(await seqs({ toTs: 1_700_000_002n, limit: 5 })).toEqual([1, 2]);
        expect(await seqs({ limit: 2, fromSeq: 2n ** 80n })).toEqual([]);
        expect(await seqs({ fromSeq: -5n, limit: 1 })).toEqual([1]);
        expect(await s.listReadings({ deviceId: 10n })).toEqual([]);
      }));

    it("concurrent appends of one seq from two handles: exactly one wins, the chain never forks", () =>
      withStore(async (s, location) => {
        const other = await b.open(location);
        try {
          const devices = [1n, 2n, 3n, 4n];
          const heads = new Map<bigint, bigint>(devices.map((d) => [d, 0n]));
          for (let seq = 1n; seq <= 8n; seq++) {
            // Every device gets four competing forks of this seq, two per handle, all at once.
            const attempts = devices.flatMap((d) =>
              [0n, 1n, 2n, 3n].map((fork) => ({
                d,
                fork,
                p: (fork % 2n === 0n ? s : other).appendReadings(d, chain(d, seq, 1, heads.get(d)!, fork), Number(seq)),
              })),
            );
            const done = await Promise.all(attempts.map(async (a) => ({ ...a, r: await a.p })));
            for (const d of devices) {
              const won = done.filter((x) => x.d === d && x.r.ok);
              expect(won).toHaveLength(1);
              for (const lost of done.filter((x) => x.d === d && !x.r.ok))
                if (!lost.r.ok) expect(lost.r.head?.seq).toBe(seq);
              heads.set(d, chain(d, seq, 1, heads.get(d)!, won[0]!.fork)[0]!.hash);
            }
          }
          for (const d of devices) {
            const rows = await other.listReadings({ deviceId: d });
            expect(rows.map((r) => r.seq)).toEqual([1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n]);
            for (let i = 1; i < rows.length; i++) expect(rows[i]!.prev).toBe(rows[i - 1]!.hash);
          }
          expect(await s.countReadings()).toBe(32);
          // Identical batches racing (a retry through two gateways): stored once.
          const batch = chain(5n, 1n, 50, 0n);
          const both = await Promise.all([s.appendReadings(5n, batch, 1), other.appendReadings(5n, batch, 2)]);
          expect(both.filter((r) => r.ok)).toHaveLength(1);
          expect(await s.countReadings(5n)).toBe(50);
        } finally {
          await other.close();
        }
      }));

    it("appends queued together keep their order per device; groups over many devices from two handles never deadlock", () =>
      withStore(async (s, location) => {
        const c = chain(3n, 1n, 6, 0n);
        // Not awaited one by one: the store must apply them in the order they were made.
        const rs = await Promise.all(c.map((r) => s.appendReadings(3n, [r], 1)));
        expect(rs.every((r) => r.ok)).toBe(true);
        expect((await s.listReadings({ deviceId: 3n })).map((r) => r.seq)).toEqual([1n, 2n, 3n, 4n, 5n, 6n]);
        const other = await b.open(location);
        try {
          const ids = Array.from({ length: 24 }, (_, i) => 100n + BigInt(i));
          const heads = new Map(ids.map((d) => [d, 0n]));
          for (let seq = 1n; seq <= 4n; seq++) {
            // One handle goes up the device list, the other down, each with its own fork of every seq.
            const up = ids.map((d) => s.appendReadings(d, chain(d, seq, 1, heads.get(d)!, 0n), 1));
            const down = [...ids].reverse().map((d) => other.appendReadings(d, chain(d, seq, 1, heads.get(d)!, 1n), 1));
            const [a, z] = await Promise.all([Promise.all(up), Promise.all(down)]);
            ids.forEach((d, i) => {
              const mine = a[i]!.ok;
              const theirs = z[ids.length - 1 - i]!.ok;
              expect(mine !== theirs).toBe(true);
              heads.set(d, chain(d, seq, 1, heads.get(d)!, mine ? 0n : 1n)[0]!.hash);
            });
          }
          expect(await other.countReadings()).toBe(6 + 24 * 4);
        } finally {
          await other.close();
        }
      }));

    it("survives a reopen: devices, readings, keys, nonces and the worker's rows are still there", () =>
      withStore(async (first, location) => {
        await first.insertDevice(device(1n));
        await first.appendReadings(1n, chain(1n, 1n, 3, 0n), 1);
        const key = await first.createApiKey("ops");
        expect(await first.nonces.consume("0xAbC", 5n, 2n ** 40n, 1_000)).toBe(true);
        await first.worker.upsertApplet(applet("a", "a"), 60_000, 1);
        await first.close();
        const s = await b.open(location);
        try {
          expect(await s.getDevice(1n)).toEqual(device(1n));
          expect(await s.countReadings()).toBe(3);
          expect(await s.checkApiKey(key)).toBe("ops");
          expect(await s.nonces.consume("0xabc", 5n, 2n ** 40n, 2_000)).toBe(false);
          expect((await s.worker.listApplets())[0]?.cursorMs).toBe(60_000);
          expect((await s.appendReadings(1n, chain(1n, 4n, 1, chain(1n, 1n, 3, 0n)[2]!.hash), 2)).ok).toBe(true);
          expect(await s.ping()).toBe(true);
        } finally {
          await s.close();
        }
        expect(await s.ping()).toBe(false);
      }));

    it("two handles opened at once on a fresh location (two processes starting together) both migrate and work", async () => {
      const location = await b.fresh();
      const [x, y] = await Promise.all([b.open(location), b.open(location)]);
      try {
        await x.insertDevice(device(1n));
        expect(await y.getDevice(1n)).toEqual(device(1n));
      } finally {
        await Promise.all([x.close(), y.close()]);
      }
    });

    it("API keys: only the returned key checks; market nonces are single-use per buyer", () =>
      withStore(async (s) => {
        const k = await s.createApiKey("ci");
        expect(k).toMatch(/^mfi_/);
        expect(await s.checkApiKey(k)).toBe("ci");
        expect(await s.checkApiKey(k + "x")).toBeUndefined();
        expect(await s.nonces.consume("0xB1", 1n, 100n, 1_000)).toBe(true);
        expect(await s.nonces.consume("0xb1", 1n, 100n, 1_000)).toBe(false);
        expect(await s.nonces.consume("0xb2", 1n, 100n, 1_000)).toBe(true);
        expect(await s.nonces.consume("0xb1", 2n ** 255n, 2n ** 70n, 1_000)).toBe(true);
        const race = await Promise.all(Array.from({ length: 8 }, () => s.nonces.consume("0xb3", 9n, 100n, 1_000)));
        expect(race.filter(Boolean)).toHaveLength(1);
      }));

    it("dashboard reads: heads, stale devices, reading activity per minute", () =>
      withStore(async (s) => {
        for (let i = 1; i <= 3; i++) await s.insertDevice(device(BigInt(i), "0xaaa", i));
        await s.appendReadings(1n, chain(1n, 1n, 2, 0n), 60_000);
        await s.appendReadings(2n, chain(2n, 1n, 3, 0n), 3 * 60_000 + 5);
        const heads = await s.listDeviceHeads(10);
        expect(heads.map((h) => [h.deviceId, h.lastSeq, h.lastTs])).toEqual([
          ["1", 2, 1_700_000_002],
          ["2", 3, 1_700_000_003],
          ["3", null, null],
        ]);
        expect(heads[0]!.lastValues).toEqual(["20", String(2n ** 200n)]);
        expect(heads[2]!.lastValues).toEqual([]);
        expect(await s.listDeviceHeads(1)).toHaveLength(1);
        expect(await s.staleDevices(2 * 60_000, 10)).toEqual({ count: 1, devices: ["1"] });
        expect(await s.staleDevices(10 * 60_000, 1)).toEqual({ count: 2, devices: ["1"] });
        expect(await s.readingActivity(0)).toEqual({
          total: 5,
          minutes: [
            { minute: 1, n: 2 },
            { minute: 3, n: 3 },
          ],
        });
        expect(await s.readingActivity(2)).toEqual({ total: 5, minutes: [{ minute: 3, n: 3 }] });
      }));

    it("reschedule is conditional: a late failure of a duplicate prover never sets a claim back (issue 23)", () =>
      withStore(async (s) => {
        const w = s.worker;
        await s.insertDevice(device(1n));
        const a = applet("energy-sum", "c");
        await w.upsertApplet(a, 0, 0);
        for (const epoch of [1n, 2n, 3n, 4n])
          await w.recordRun({
            applet: a,
            deviceId: 1n,
            epoch,
            readings: [{ seq: epoch } as never],
            stateBefore: undefined,
            outcome: outcome(1n),
            claims: [{ deviceId: 1n, output: 5n }],
            now: Number(epoch),
          });
        const [c1, c2, c3, c4] = (await w.dueClaims("pending", 100, 10)).map((c) => c.id);
        const state = async (id: number) => (await w.listClaims(10)).find((c) => c.id === id)!;

        // Two provers took c1 at attempt 0: one proved it, the other fails late. The claim stays proved.
        await w.markProved(c1!, "{}", "{}", 10, 5);
        expect(await w.reschedule(c1!, "pending", 1, 50, "prover crashed")).toBe(false);
        expect(await state(c1!)).toMatchObject({ state: "proved", attempts: 0, error: null, next_attempt_at_ms: 0 });
        // … nor a submitted or a paid one
        await w.markSubmitted(c1!, "0x1", 6);
        expect(await w.reschedule(c1!, "pending", 1, 50, "late")).toBe(false);
        await w.markPaid(c1!, { reward: 15n }, 7);
        expect(await w.reschedule(c1!, "pending", 1, 50, "late")).toBe(false);
        expect(await w.reschedule(c1!, "proved", 1, 50, "late")).toBe(false);
        // and a late last-try failure does not fail a paid claim
        expect(await w.markFailed(c1!, "late", 3, 8)).toBe(false);
        expect(await state(c1!)).toMatchObject({ state: "paid", reward: "15", attempts: 0 });
        expect(await w.claimState(c1!)).toEqual({ state: "paid", attempts: 0 });

        // A pending claim's own failure reschedules it; a stale one (attempts going back) does not.
        expect(await w.reschedule(c2!, "pending", 2, 60, "second failure")).toBe(true);
        expect(await w.reschedule(c2!, "pending", 1, 70, "stale first failure")).toBe(false);
        expect(await state(c2!)).toMatchObject({ state: "pending", attempts: 2, next_attempt_at_ms: 60 });
        expect(await w.claimState(c2!)).toEqual({ state: "pending", attempts: 2 });

        // A submit failure goes back to proved from proved or submitted, never from pending or failed.
        await w.markProved(c3!, "{}", "{}", 10, 5);
        await w.markSubmitted(c3!, "0x3", 6);
        expect(await w.reschedule(c3!, "proved", 1, 80, "reverted")).toBe(true);
        expect(await state(c3!)).toMatchObject({ state: "proved", attempts: 1, error: "reverted" });
        expect(await w.reschedule(c4!, "proved", 1, 80, "never proved")).toBe(false);
        expect(await w.markFailed(c4!, "refused", 1, 9)).toBe(true);
        expect(await w.reschedule(c4!, "pending", 2, 90, "late")).toBe(false);
        expect(await state(c4!)).toMatchObject({ state: "failed", error: "refused" });
        expect(await w.claimState(999_999)).toBeUndefined();
        // The device's unsettled epochs (a stateful claim waits for earlier ones): c2 pending, c3 proved; not c1
        // (paid) nor c4 (failed); none for another device or applet.
        const dev = (await state(c2!)).device_id;
        expect((await w.unsettledEpochs(a.imageId, dev)).sort()).toEqual([2n, 3n]);
        expect(await w.unsettledEpochs(a.imageId, "999")).toEqual([]);
        expect(await w.unsettledEpochs("00".repeat(32), dev)).toEqual([]);
      }));

    it("issue 18: a run's new state goes to the device token's row, or nowhere; claimAt finds one claim", () =>
      withStore(async (s) => {
        const w = s.worker;
        const a = applet("uptime-streak", "d");
        await w.upsertApplet(a, 0, 0);
        const run = (
          deviceId: bigint,
          epoch: bigint,
          fuel: bigint,
          o: { stateOwner?: bigint; advanceState?: boolean; note?: string },
        ) =>
          w.recordRun({
            applet: a,
            deviceId,
            epoch,
            readings: [{ seq: epoch } as never],
            stateBefore: undefined,
            outcome: outcome(fuel),
            claims: [{ deviceId, output: fuel }],
            now: Number(epoch),
            ...o,
          });
        await run(1n, 1n, 11n, {});
        // a rotated key (2) runs under its token (1): the token's row moves, the key has none
        await run(2n, 2n, 12n, { stateOwner: 1n });
        expect(await w.getState(a.imageId, 1n)).toEqual(new Uint8Array([9, 12]));
        expect(await w.getState(a.imageId, 2n)).toBeUndefined();
        // a run whose claim can never be paid leaves the row as it was, and says why
        const dropped = await run(2n, 3n, 13n, { stateOwner: 1n, advanceState: false, note: "not claimable: key 0x2" });
        expect(await w.getState(a.imageId, 1n)).toEqual(new Uint8Array([9, 12]));
        expect((await w.getRun(dropped))?.note).toBe("not claimable: key 0x2");
        expect((await w.listRuns(3)).map((r) => r.note)).toEqual(["not claimable: key 0x2", null, null]);
        expect((await w.claimAt(a.imageId, "2", 2n))?.output).toBe("12");
        expect(await w.claimAt(a.imageId, "1", 2n)).toBeUndefined();
        // a token's claims under any of its keys (token_id: the run's stateOwner); the latest paid epoch by number
        // (epochs are stored as decimal text: "10" sorts before "9" as text)
        expect(await w.lastPaidEpoch(a.imageId, 1n)).toBeUndefined();
        await run(2n, 9n, 14n, { stateOwner: 1n });
        await run(2n, 10n, 15n, { stateOwner: 1n });
        await run(2n, 11n, 16n, { stateOwner: 1n });
        for (const e of [2n, 9n, 10n]) await w.markPaid((await w.claimAt(a.imageId, "2", e))!.id, {}, 20);
        expect(await w.lastPaidEpoch(a.imageId, 1n)).toBe(10n);
        expect(await w.lastPaidEpoch(a.imageId, 2n)).toBeUndefined();
        expect((await w.tokenUnsettledEpochs(a.imageId, 1n)).sort((x, y) => Number(x - y))).toEqual([1n, 3n, 11n]);
        expect(await w.tokenUnsettledEpochs(a.imageId, 2n)).toEqual([]);
        expect(await w.tokenClaimAt(a.imageId, 1n, 9n)).toMatchObject({ device_id: "2", token_id: "1", state: "paid" });
        expect((await w.tokenClaimAt(a.imageId, 1n, 1n))?.device_id).toBe("1");
        expect(await w.tokenClaimAt(a.imageId, 2n, 9n)).toBeUndefined();
      }));

    it("worker: applets, runs, state and claims through their states; status totals exact for uint256 rewards", () =>
      withStore(async (s) => {
        const w = s.worker;
        await s.insertDevice(device(1n, "0xaaa"));
        await s.insertDevice(device(2n, "0xbbb", 1));
        const a = applet("energy-sum", "a");
        const b2 = applet("threshold", "b");
        await w.upsertApplet(a, 0, 0);
        await w.upsertApplet(b2, 0, 1);
        await w.upsertApplet({ ...a, name: "energy-sum-2" }, 999, 5);
        expect(await w.getApplet(a.imageId)).toEqual({
          ...a,
          name: "energy-sum-2",
          reducer: undefined,
          param: undefined,
        });
        await w.setCursor(a.imageId, 120_000);
        await w.setCursor(a.imageId, 60_000);
        expect((await w.listApplets()).map((x) => [x.spec.name, x.cursorMs])).toEqual([
          ["energy-sum-2", 120_000],
          ["threshold", 0],
        ]);
        // issue 22: a quarantine is set once, kept by a re-registration, listed with its reason
        expect(await w.quarantineApplet(b2.imageId, "f64", 7)).toBe(true);
        expect(await w.quarantineApplet(b2.imageId, "again", 8)).toBe(false);
        await w.upsertApplet(b2, 0, 9);
        expect((await w.listApplets()).map((x) => x.quarantined)).toEqual([null, "f64"]);
        // issue 22: a retired version (replaced in mfi dev) is listed as such until it is added again
        expect(await w.retireApplet(a.imageId, 10)).toBe(true);
        expect(await w.retireApplet(a.imageId, 11)).toBe(false);
        expect((await w.listApplets()).map((x) => x.retiredAtMs)).toEqual([10, null]);
        await w.upsertApplet({ ...a, name: "energy-sum-2" }, 0, 12);
        expect((await w.listApplets()).map((x) => x.retiredAtMs)).toEqual([null, null]);
        const reading = { seq: 1n } as never;
        const run = (ap: AppletSpec, dev: bigint, epoch: bigint, fuel: bigint, trap?: string, claims = true) =>
          w.recordRun({
            applet: ap,
            deviceId: dev,
            epoch,
            readings: [reading, { seq: 4n } as never],
            stateBefore: epoch > 1n ? new Uint8Array([1]) : undefined,
            outcome: outcome(fuel, trap),
            claims: claims ? [{ deviceId: dev, output: 7n }] : [],
            now: 60_000 * Number(epoch),
          });
        const r1 = await run(a, 1n, 1n, 100n);
        await run(a, 2n, 1n, 200n);
        await run(b2, 1n, 2n, 50n);
        await run(b2, 2n, 2n, 5n, "OutOfFuel", false);
        await run(a, 1n, 3n, 9n, "Unreachable", false);
        // A run is unique per (applet, device, epoch): a repeat is refused, nothing half-written.
        await expect(run(a, 1n, 1n, 1n)).rejects.toThrow();
        expect(await w.hasRun(a.imageId, 1n, 1n)).toBe(true);
        expect(await w.hasRun(a.imageId, 1n, 2n)).toBe(false);
        expect(await w.getState(a.imageId, 1n)).toEqual(new Uint8Array([9, 100]));
        expect(await w.getState(b2.imageId, 2n)).toBeUndefined();
        const got = (await w.getRun(r1))!;
        expect([got.from_seq, got.to_seq, got.reading_count, got.fuel_used, got.epoch]).toEqual([1, 4, 2, 100, "1"]);
        expect(new Uint8Array(got.journal)).toEqual(new Uint8Array([1, 2, 3]));
        expect((await w.listRuns(2)).map((r) => r.trap)).toEqual(["Unreachable: boom", "OutOfFuel: boom"]);
        expect(await w.oldestPending()).toBe(60_000);

        const due = await w.dueClaims("pending", 10_000_000, 10);
        expect(due.map((c) => [c.device_id, c.epoch, c.output, c.state])).toEqual([
          ["1", "1", "7", "pending"],
          ["2", "1", "7", "pending"],
          ["1", "2", "7", "pending"],
        ]);
        const [c1, c2, c3] = due;
        await w.defer(c3!.id, 50, "busy");
        expect((await w.dueClaims("pending", 40, 10)).map((c) => c.id)).toEqual([c1!.id, c2!.id]);
        const receipt = (circuit: string) => JSON.stringify({ seal: { circuit } });
        const calldata = JSON.stringify({ imageId: a.imageId, deviceId: "1", epoch: "1", output: "7", proof: "0x01" });
        await w.markProved(c1!.id, receipt("applet_aaaa_k16"), calldata, 1200, 1);
        await w.markProved(c1!.id, receipt("other"), "{}", 5, 1); // not pending any more: no effect
        await w.markProved(c2!.id, receipt("applet_aaaa_k16"), "{}", 30_000, 2);
        await w.markProved(c3!.id, "not json", "{}", 400, 3);
        expect(await w.calldataOf(c1!.id)).toEqual({
          imageId: a.imageId,
          deviceId: 1n,
          epoch: 1n,
          output: 7n,
          proof: "0x01",
        });
        await w.markSubmitted(c1!.id, "0x1", 4);
        await w.markPaid(c1!.id, { reward: BIG, gasUsed: 300_000n }, 5 * 60_000);
        await w.markPaid(c2!.id, { reward: 2n * BIG + 1n, gasUsed: 290_000n }, 7 * 60_000 + 5);
        await w.reschedule(c3!.id, "proved", 2, 77, "nonce too low");
        expect((await w.dueClaims("proved", 100, 10)).map((c) => [c.id, c.attempts, c.error])).toEqual([
          [c3!.id, 2, "nonce too low"],
        ]);
        await w.markFailed(c3!.id, "refused", 3, 8);
        const claims = await w.listClaims(10);
        expect(claims.find((c) => c.id === c1!.id)).toMatchObject({
          state: "paid",
          tx_hash: "0x1",
          reward: BIG.toString(),
          gas_used: 300_000,
          prove_ms: 1200,
        });

        expect(await w.claimCounts()).toEqual({ pending: 0, proved: 0, submitted: 0, paid: 2, failed: 1 });
        expect(await w.runCounts()).toEqual({ runs: 5, trapped: 2 });
        expect((await w.trapCounts()).sort((x, y) => x.kind.localeCompare(y.kind))).toEqual([
          { kind: "OutOfFuel", n: 1 },
          { kind: "Unreachable", n: 1 },
        ]);
        expect(await w.totals()).toEqual({
          fuelUsed: 364,
          proveMs: 31_600,
          proofs: 3,
          gasUsed: 590_000,
          paidClaims: 2,
          rewardPaid: 3n * BIG + 1n,
        });
        expect(await w.payouts(10)).toEqual({
          owners: 2,
          rows: [
            { owner: "0xbbb", claims: 1, reward: 2n * BIG + 1n },
            { owner: "0xaaa", claims: 1, reward: BIG },
          ],
        });
        expect(await w.payouts(1)).toEqual({ owners: 2, rows: [{ owner: "0xbbb", claims: 1, reward: 2n * BIG + 1n }] });
        expect(await w.paidActivity(6)).toEqual({
          claims: 2,
          reward: 3n * BIG + 1n,
          minutes: [{ minute: 7, claims: 1, reward: 2n * BIG + 1n }],
        });
        const h = await w.proveHistogram();
        const k16 = h.find((x) => x.circuit === "applet_aaaa_k16")!;
        expect([k16.count, k16.sumMs]).toEqual([2, 31_200]);
        expect(k16.buckets.find((x) => x.le === 2.5)!.n).toBe(1);
        expect(k16.buckets.find((x) => x.le === 40)!.n).toBe(2);
        expect(h.find((x) => x.circuit === "unknown")!.buckets[0]).toEqual({ le: 0.5, n: 1 });
        expect(await w.applets()).toEqual([
          { imageId: a.imageId, name: "energy-sum-2", runs: 3, trapped: 1, fuelUsed: 309, quarantined: null },
          { imageId: b2.imageId, name: "threshold", runs: 2, trapped: 1, fuelUsed: 55, quarantined: "f64" },
        ]);
        expect(await w.oldestPending()).toBe(null);
      }));
  });
}
