/**
 * The prove queue, both implementations: a claim at one attempt is one job however often it is offered; a handler that
 * throws is retried; on pg-boss (a real embedded Postgres) a job whose prover stops answering is taken by another
 * once its visibility timeout passes, jobs that keep failing land in the dead-letter queue, and a claim that moved on
 * is not proved again (idempotent handler); a run job that failed or completed is delivered again when offered again.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pgClient from "pg";
import { openPostgresStore } from "../../store/postgres/open.ts";
import { startTestPostgres, type TestPostgres } from "../../store/postgres/testing.ts";
import type { AppletSpec, ClaimRow, StoreSet } from "../../store/index.ts";
import { InProcessProveQueue } from "./memory.ts";
import { PgBossProveQueue } from "./pg-boss.ts";
import { PgBossRunQueue } from "./pg-boss-run.ts";

const applet: AppletSpec = {
  imageId: `0x${"a".repeat(64)}`,
  name: "q",
  wasm: new Uint8Array([0, 97, 115, 109]),
  rewardPerUnit: 1n,
};

async function makeClaims(store: StoreSet, n: number): Promise<ClaimRow[]> {
  await store.worker.upsertApplet(applet, 0, 0);
  for (let d = 1; d <= n; d++)
    await store.worker.recordRun({
      applet,
      deviceId: BigInt(d),
      epoch: 1n,
      readings: [{ seq: 1n } as never],
      stateBefore: undefined,
      outcome: {
        inputDigest: "0x",
        journal: new Uint8Array([1]),
        journalDigest: "0x",
        fuelUsed: 1n,
        stateRoot: "0x",
        state: new Uint8Array([1]),
        claims: [],
      },
      claims: [{ deviceId: BigInt(d), output: 5n }],
      now: 0,
    });
  return store.worker.dueClaims("pending", Date.now(), 100);
}

const until = async (f: () => boolean, ms = 20_000) => {
  const t0 = Date.now();
  while (!f()) {
    if (Date.now() - t0 > ms) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe("InProcessProveQueue", () => {
  it("one job per claim and attempt; a throwing handler is retried", async () => {
    const q = new InProcessProveQueue({ retryLimit: 1 });
    const seen: string[] = [];
    let fails = 1;
    await q.work(async (c) => {
      seen.push(`${c.id}:${c.attempts}`);
      if (c.id === 2 && fails-- > 0) throw new Error("store unreachable");
    }, 1);
    const claim = (id: number, attempts = 0) => ({ id, attempts }) as ClaimRow;
    await q.enqueue([claim(1), claim(1), claim(2)]);
    await q.enqueue([claim(1)]);
    await until(() => seen.length >= 3 && q.busy === 0);
    expect(seen.filter((k) => k === "1:0").length).toBeLessThanOrEqual(2); // again only after the first finished
    expect(seen.filter((k) => k === "2:0")).toHaveLength(2); // retried once
    await q.stop();
  });
});

describe("PgBossProveQueue and PgBossRunQueue", () => {
  let pg: TestPostgres;
  beforeAll(async () => {
    pg = await startTestPostgres();
  }, 60_000);
  afterAll(async () => {
    await pg?.stop();
  });

  it("offered twice, proved once; a claim no longer pending is skipped", async () => {
    const url = await pg.createDatabase();
    const store = await openPostgresStore(url);
    const claims = await makeClaims(store, 3);
    const q = await PgBossProveQueue.open({ url, pollingIntervalSeconds: 0.5 });
    try {
      await store.worker.markFailed(claims[2]!.id, "test", 1, 0); // moved on before a prover took it
      await q.enqueue(claims);
      await q.enqueue(claims);
      const seen: number[] = [];
      await q.work(async (c) => {
        seen.push(c.id);
        await store.worker.markProved(c.id, "{}", "{}", 1, 0);
      }, 2);
      await until(() => seen.length >= 2);
      await new Promise((r) => setTimeout(r, 1500));
      expect(seen.sort()).toEqual([claims[0]!.id, claims[1]!.id]);
    } finally {
      await q.stop();
      await store.close();
    }
  }, 60_000);

  it("a job whose prover stops answering goes to another after the visibility timeout; failures are dead-lettered", async () => {
    const url = await pg.createDatabase();
    const store = await openPostgresStore(url);
    const [stuck, bad] = await makeClaims(store, 2);
    const opts = { url, expireInSeconds: 2, retryLimit: 1, retryDelaySeconds: 1, maintenanceIntervalSeconds: 1 };
    const a = await PgBossProveQueue.open({ ...opts, pollingIntervalSeconds: 0.5 });
    const b = await PgBossProveQueue.open({ ...opts, pollingIntervalSeconds: 0.5 });
    try {
      // Prover a takes the job and never finishes (as a SIGKILLed process would not).
      let aTook = false;
      await a.work(async () => {
        aTook = true;
        await new Promise(() => {});
      }, 1);
      await a.enqueue([stuck!]);
      await until(() => aTook);
      await a.stop({ graceful: false });
      const bSeen: { id: number; lastTry: boolean }[] = [];
      await b.work(async (c, info) => {
        bSeen.push({ id: c.id, lastTry: info.lastTry });
        if (c.id === bad!.id) throw new Error("prover crashed");
        await store.worker.markProved(c.id, "{}", "{}", 1, 0);
      }, 1);
      await until(() => bSeen.some((s) => s.id === stuck!.id), 30_000);
      expect((await store.worker.dueClaims("proved", Date.now(), 10)).map((c) => c.id)).toEqual([stuck!.id]);
      await b.enqueue([bad!]);
      await until(() => bSeen.filter((s) => s.id === bad!.id).length >= 2, 30_000);
      expect(bSeen.filter((s) => s.id === bad!.id).map((s) => s.lastTry)).toEqual([false, true]);
      const t0 = Date.now();
      while ((await b.deadLettered()) < 1 && Date.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 200));
      expect(await b.deadLettered()).toBe(1);
    } finally {
      await b.stop();

      await store.close();
    }
  }, 90_000);

  it("a run job that failed (its dead-letter delete lost) or completed without a run is delivered again when offered again", async () => {
    const url = await pg.createDatabase();
    const q = await PgBossRunQueue.open({ url, retryLimit: 0, pollingIntervalSeconds: 0.5 });
    const db = new pgClient.Client({ connectionString: url });
    await db.connect();
    const settled = async (state: string) => {
      const t0 = Date.now();
      for (;;) {
        const r = await db.query("SELECT state FROM pgboss.job WHERE name = 'mfi-run'");
        if (r.rows[0]?.state === state) return;
        if (Date.now() - t0 > 20_000) throw new Error(`run job not ${state}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    try {
      const job = { imageId: applet.imageId, deviceId: "1", epoch: "1" };
      let deliveries = 0;
      // No dead-letter handler: the failed job keeps its id, as when the handler's deleteJob fails.
      await q.work(async () => {
        if (++deliveries === 1) throw new Error("runner failed");
      }, 1);
      await q.enqueue([job]);
      await settled("failed");
      await q.enqueue([job]); // a retry: delivered again (and completed without storing a run)
      await settled("completed");
      await q.enqueue([job]); // delivered again
      await until(() => deliveries === 3);
      await settled("completed");
      expect(deliveries).toBe(3);
    } finally {
      await db.end();
      await q.stop();
    }
  }, 60_000);
});
