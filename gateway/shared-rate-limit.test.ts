/**
 * Shared buckets on a real (embedded) Postgres: two SharedRateLimits on one database stand for two gateway processes
 * (each has its own pool and copies; only the database is shared).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestPostgres, type TestPostgres } from "../store/postgres/testing.ts";
import { GatewayError } from "./errors.ts";
import { openSharedRateLimits, type SharedRateLimits } from "./shared-rate-limit.ts";

let pg: TestPostgres;
const open: SharedRateLimits[] = [];
beforeAll(async () => {
  pg = await startTestPostgres();
}, 120_000);
afterAll(async () => {
  await Promise.all(open.map((s) => s.close()));
  await pg?.stop();
}, 60_000);

const tick = () => new Promise((r) => setTimeout(r, 2));
/** Every write of both processes landed: what remains is the bound without writes in flight. */
const settled = (...s: SharedRateLimits[]) => Promise.all(s.map((x) => x.flushed()));
async function two(db: string): Promise<[SharedRateLimits, SharedRateLimits]> {
  const [a, b] = await Promise.all([openSharedRateLimits(db), openSharedRateLimits(db)]);
  open.push(a, b);
  return [a, b];
}
// No refill to speak of during a test: the budget is the burst.
const LIMIT = { perSecond: 0.001, burst: 10 };

describe("rate limits shared through Postgres", () => {
  it("one device flooding two gateways gets its budget once in total, not once per gateway", async () => {
    const [a, b] = await two(await pg.createDatabase());
    const la = a.limiter<bigint>("device", LIMIT);
    const lb = b.limiter<bigint>("device", LIMIT);
    let accepted = 0;
    for (let i = 0; i < 60; i++) {
      // as ingest does: read the budget before the work, charge it after
      const l = i % 2 ? lb : la;
      if (l.check(7n).ok) {
        accepted++;
        l.charge(7n);
      }
      await settled(a, b);
    }
    // Each answer brings the other gateway's spending: the burst once, plus one decision of the other process on a
    // copy that had not yet seen this one's last spending (the stated bound with no write in flight), not a second burst.
    expect(accepted).toBeGreaterThanOrEqual(LIMIT.burst);
    expect(accepted).toBeLessThanOrEqual(LIMIT.burst + 1);
    // Another device and another scope are untouched.
    expect(la.check(8n).ok).toBe(true);
    expect(a.limiter<string>("failures", LIMIT).check("7").ok).toBe(true);
    // Writes are coalesced: well under one statement per request.
    expect(a.statements() + b.statements()).toBeLessThanOrEqual(2 * 60);
  }, 60_000);

  it("take() shares a client's budget; a third process that never saw the key is refused after its first fetch", async () => {
    const db = await pg.createDatabase();
    const [a, b] = await two(db);
    const la = a.limiter<string>("registrations", { perSecond: 0.001, burst: 3 });
    const lb = b.limiter<string>("registrations", { perSecond: 0.001, burst: 3 });
    const got = [];
    for (let i = 0; i < 10; i++) {
      got.push((i % 2 ? lb : la).take("10.0.0.1").ok);
      await settled(a, b);
    }
    // The burst, plus one for the other process (a decision on a copy that had not yet seen this one's last spending).
    expect(got.filter(Boolean).length).toBeGreaterThanOrEqual(3);
    expect(got.filter(Boolean).length).toBeLessThanOrEqual(4);
    const [c] = await two(db);
    const lc = c.limiter<string>("registrations", { perSecond: 0.001, burst: 3 });
    // Unknown here: allowed once while its bucket is fetched (the stated bound), then refused with a retry time.
    lc.check("10.0.0.1");
    await new Promise((r) => setTimeout(r, 300)); // the fetch (a new connection) lands
    const d = lc.take("10.0.0.1");
    expect(d.ok).toBe(false);
    expect(d.ok ? 0 : d.retryAfterMs).toBeGreaterThan(1000);
  }, 60_000);

  it("Postgres down: refuses with a 503 (not open), keeps what was spent, recovers on its own", async () => {
    const db = await pg.createDatabase();
    const [a, b] = await two(db);
    const la = a.limiter<bigint>("device", LIMIT);
    const lb = b.limiter<bigint>("device", LIMIT);
    expect(la.check(1n).ok).toBe(true);
    await tick();
    await pg.stopServer();
    try {
      // Work done while down is recorded; the write fails and every decision from then on is a 503.
      for (let i = 0; i < 4; i++) la.charge(1n);
      let err: unknown;
      for (let i = 0; i < 200 && err === undefined; i++) {
        try {
          la.check(1n);
        } catch (e) {
          err = e;
        }
        await tick();
      }
      expect(err).toBeInstanceOf(GatewayError);
      expect((err as GatewayError).status).toBe(503);
      expect((err as GatewayError).type).toBe("rate-limit-unavailable");
      expect((err as GatewayError).headers["retry-after"]).toBe("1");
      expect(() => la.take(1n)).toThrow(GatewayError);
    } finally {
      await pg.startServer();
    }
    // Back up: the next requests retry the write, the 4 tokens spent while down reach the shared bucket.
    let ok = false;
    for (let i = 0; i < 500 && !ok; i++) {
      try {
        la.check(1n);
        ok = true;
      } catch {
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    expect(ok).toBe(true);
    await settled(a); // a's retried write lands
    // b fetches the shared bucket (its first write may find its connection cut by the restart: retried)
    for (let i = 0; i < 100; i++) {
      try {
        lb.check(1n);
        await settled(b);
        lb.check(1n);
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    let left = 0;
    while (lb.check(1n).ok && left < 20) {
      lb.charge(1n);
      left++;
      await settled(a, b);
    }
    expect(left).toBeLessThanOrEqual(LIMIT.burst - 4);
  }, 120_000);
});
