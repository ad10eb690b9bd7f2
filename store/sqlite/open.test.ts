import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { genesisHash, hashReading, padValues, type SignedReading } from "../../device-sdk/index.ts";
import { DASHBOARD_SQL, openSqliteStore, sqliteHandleOf } from "./open.ts";
import { WORKER_STATUS_SQL } from "./worker-store.ts";

const dir = mkdtempSync(join(tmpdir(), "mfi-store-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** An unsigned chain (the store does not verify; ingest does) with a fake signature on every 3rd link. */
function chain(deviceId: bigint, n: number, from = { seq: 0n, hash: genesisHash(deviceId) }): SignedReading[] {
  const out: SignedReading[] = [];
  let prev = from.hash;
  for (let i = 1; i <= n; i++) {
    const r = {
      deviceId,
      seq: from.seq + BigInt(i),
      ts: 1000n * (from.seq + BigInt(i)),
      values: padValues([BigInt(i), -(1n << 62n)]),
      prev,
    };
    const hash = hashReading(r);
    out.push({ ...r, hash, signature: i % 3 === 0 ? { R8x: 1n, R8y: 2n, S: BigInt(i) } : null });
    prev = hash;
  }
  return out;
}

const device = (id: bigint) => ({
  deviceId: id,
  publicKey: { x: 1n, y: 2n },
  owner: "0xabc",
  chainId: 31337n,
  registry: "0x0",
  signature: { R8x: 3n, R8y: 4n, S: 5n },
  registeredAt: 42,
});

describe("SQLite store", () => {
  it("appends only extensions of the stored head, in one transaction", async () => {
    const s = openSqliteStore(join(dir, "a.sqlite"));
    const c = chain(7n, 6);
    expect((await s.appendReadings(7n, c.slice(1, 3), 1)).ok).toBe(false); // seq 2 on an empty chain
    const ok = await s.appendReadings(7n, c.slice(0, 3), 100);
    expect(ok.ok && ok.readings.map((r) => r.receivedAt)).toEqual([100, 100, 100]);
    expect(await s.appendReadings(7n, c.slice(0, 3), 1)).toEqual({ ok: false, head: { seq: 3n, hash: c[2]!.hash } });
    expect((await s.appendReadings(7n, chain(7n, 2, { seq: 3n, hash: 1n }), 1)).ok).toBe(false); // wrong prev
    expect((await s.appendReadings(7n, c.slice(3), 200)).ok).toBe(true);
    expect(await s.countReadings(7n)).toBe(6);
    const last = await s.lastReading(7n);
    expect(last).toEqual({ ...c[5], receivedAt: 200 });
    expect(await s.getReading(7n, 2n)).toEqual({ ...c[1], receivedAt: 100 });
    await s.close();
  });

  it("commits concurrent appends as one group, each checked against the head left by the ones before it", async () => {
    const s = openSqliteStore(join(dir, "g.sqlite"));
    const c = chain(8n, 5);
    const [a, b, clash, d, other] = await Promise.all([
      s.appendReadings(8n, c.slice(0, 2), 1),
      s.appendReadings(8n, c.slice(2, 3), 2),
      s.appendReadings(8n, c.slice(2, 3), 3), // same seq again: refused alone
      s.appendReadings(8n, c.slice(3), 4),
      s.appendReadings(4n, chain(4n, 1), 5),
    ]);
    expect([a.ok, b.ok, clash.ok, d.ok, other.ok]).toEqual([true, true, false, true, true]);
    expect((await s.listReadings({ deviceId: 8n })).map((r) => r.receivedAt)).toEqual([1, 1, 2, 4, 4]);
    await s.close();
    await expect(s.appendReadings(8n, c, 1)).rejects.toThrow(/closed/);
  });

  it("keeps readings durable and unique across reopen, and refuses edits", async () => {
    const path = join(dir, "b.sqlite");
    const s1 = openSqliteStore(path);
    await s1.appendReadings(9n, chain(9n, 4), 1);
    await s1.close();
    const s2 = openSqliteStore(path);
    expect(await s2.countReadings()).toBe(4);
    expect(() => sqliteHandleOf(s2).prepare("UPDATE readings SET ts = 0").run()).toThrow(/append-only/);
    expect(() => sqliteHandleOf(s2).prepare("DELETE FROM readings").run()).toThrow(/append-only/);
    const r = (await s2.getReading(9n, 1n))!;
    expect(() =>
      sqliteHandleOf(s2)
        .prepare(
          "INSERT INTO readings (device_id, seq, ts, vals, prev, hash, received_at) VALUES ('9', 1, 0, '[]', '0', '0', 0)",
        )
        .run(),
    ).toThrow(/UNIQUE|PRIMARY/);
    expect(r.values[1]).toBe(-(1n << 62n));
    await s2.close();
  });

  it("lists readings by seq and ts ranges, ascending, with signatures", async () => {
    const s = openSqliteStore(":memory:");
    const c = chain(5n, 10);
    await s.appendReadings(5n, c, 1);
    await s.appendReadings(6n, chain(6n, 3), 1);
    const seqs = async (q: object) => (await s.listReadings({ deviceId: 5n, ...q })).map((r) => Number(r.seq));
    expect(await seqs({})).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(await seqs({ fromSeq: 3n, toSeq: 5n })).toEqual([3, 4, 5]);
    expect(await seqs({ fromTs: 4000n, toTs: 6500n })).toEqual([4, 5, 6]);
    expect(await seqs({ fromSeq: 8n, limit: 2 })).toEqual([8, 9]);
    expect(await seqs({ fromSeq: 2n ** 60n })).toEqual([]);
    const signed = (await s.listReadings({ deviceId: 5n })).filter((r) => r.signature).map((r) => Number(r.seq));
    expect(signed).toEqual([3, 6, 9]);
    expect(await s.getReading(5n, 0n)).toBeUndefined();
    await s.close();
  });

  it("records devices once, lists them in registration order with keyset paging", async () => {
    const s = openSqliteStore(":memory:");
    expect((await s.insertDevice(device(30n))).created).toBe(true);
    expect((await s.insertDevice({ ...device(30n), owner: "0xother" })).created).toBe(false);
    expect((await s.getDevice(30n))?.owner).toBe("0xabc");
    await s.insertDevice(device(10n));
    await s.insertDevice(device(20n));
    expect((await s.listDevices()).map((d) => d.deviceId)).toEqual([30n, 10n, 20n]);
    expect((await s.listDevices({ after: 30n, limit: 1 })).map((d) => d.deviceId)).toEqual([10n]);
    expect(await s.getDevice(99n)).toBeUndefined();
    await s.close();
  });

  it("applies extra migrations once, after its own", async () => {
    const path = join(dir, "c.sqlite");
    const m = [{ id: "test/001", sql: "CREATE TABLE extra (x INTEGER)" }];
    const s1 = openSqliteStore(path, { migrations: m });
    sqliteHandleOf(s1).prepare("INSERT INTO extra VALUES (1)").run();
    await s1.close();
    const s2 = openSqliteStore(path, { migrations: m });
    expect(sqliteHandleOf(s2).prepare("SELECT count(*) AS c FROM extra").get()).toEqual({ c: 1 });
    expect(sqliteHandleOf(s2).pragma("journal_mode", { simple: true })).toBe("wal");
    expect(await s2.ping()).toBe(true);
    await s2.close();
  });

  it("close() with appends in flight on the writer thread: waits for the group, acknowledged = stored, later ones refused", async () => {
    const path = join(dir, "close.sqlite");
    const s = openSqliteStore(path);
    // Fake hashes are fine here: the store checks links (seq, prev), not hashes.
    const fake = (d: bigint, n: number): SignedReading[] => {
      let prev = genesisHash(d);
      return Array.from({ length: n }, (_, i) => {
        const r = {
          deviceId: d,
          seq: BigInt(i + 1),
          ts: BigInt(i),
          values: padValues([1n]),
          prev,
          hash: d * 1000n + BigInt(i + 1),
          signature: null,
        };
        prev = r.hash;
        return r;
      });
    };
    let acked = 0;
    let refused = 0;
    const streams = Array.from({ length: 40 }, async (_, k) => {
      const d = BigInt(k + 1);
      const c = fake(d, 50);
      for (let i = 0; i < 50; i += 5) {
        try {
          if ((await s.appendReadings(d, c.slice(i, i + 5), 1)).ok) acked += 5;
        } catch (e) {
          expect(String(e)).toMatch(/closed/);
          refused++;
          return;
        }
      }
    });
    // Close as soon as the first group has committed, while the next ones are queued or in flight.
    await s.appendReadings(999n, fake(999n, 1), 1);
    await s.close();
    await Promise.all(streams);
    expect(refused).toBeGreaterThan(0);
    const again = openSqliteStore(path);
    expect(await again.countReadings()).toBe(acked + 1);
    await again.close();
  });
});

describe("dashboard reads", () => {
  it("no query scans readings, runs or claims: counts come from trigger-kept counters, heads from primary-key lookups", () => {
    const store = openSqliteStore(":memory:");
    const db = sqliteHandleOf(store);
    for (const sql of [...Object.values(DASHBOARD_SQL), ...Object.values(WORKER_STATUS_SQL)]) {
      const plan = (
        db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...(sql.includes("?") ? [0] : [])) as { detail: string }[]
      ).map((p) => p.detail);
      const all = `${sql}\n${plan.join("\n")}`;
      // readings appears as itself or under the aliases l and m: only SEARCHes (index lookups) are allowed on it.
      for (const d of plan) expect(d, all).not.toMatch(/^SCAN (readings|l|m|worker_runs|worker_claims)\b/);
      if (sql !== DASHBOARD_SQL.devices && sql !== DASHBOARD_SQL.stale)
        expect(plan.join("\n")).not.toMatch(/readings\b/);
      // The oldest pending claim is read off the (state, created_at_ms) index, not by visiting every pending row.
      if (sql === WORKER_STATUS_SQL.oldestPending) expect(plan.join("\n"), all).toMatch(/worker_claims_state_age/);
    }
  });
});

describe("nonces (SQLite)", () => {
  it("spends a nonce once per buyer (case-insensitive) and prunes expired ones", async () => {
    const store = openSqliteStore(":memory:");
    const nonces = store.nonces;
    const a = "0xAbCd000000000000000000000000000000000001";
    expect(await nonces.consume(a, 5n, 100n, 10_000)).toBe(true);
    expect(await nonces.consume(a.toLowerCase(), 5n, 100n, 10_000)).toBe(false);
    expect(await nonces.consume("0x0000000000000000000000000000000000000002", 5n, 100n, 10_000)).toBe(true);
    const count = () =>
      (sqliteHandleOf(store).prepare("SELECT count(*) AS c FROM market_nonces").get() as { c: number }).c;
    expect(count()).toBe(2);
    // a minute later, both requests (expiry 100 s) have expired: the next consume prunes them
    expect(await nonces.consume(a, 6n, 10_000n, 200_000)).toBe(true);
    expect(count()).toBe(1);
  });
});
