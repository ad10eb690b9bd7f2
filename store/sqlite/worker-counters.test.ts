import { describe, expect, it } from "vitest";
import type { AppletSpec, RunOutcome } from "../worker-types.ts";
import { openSqliteStore, sqliteHandleOf } from "./open.ts";
import { migrate, storeMigrations } from "./migrations.ts";

const applet = (name: string, hex: string): AppletSpec => ({
  imageId: `0x${hex.repeat(64)}`,
  name,
  wasm: new Uint8Array([0, 97, 115, 109]),
  rewardPerUnit: 1n,
});
const outcome = (fuel: bigint, trap?: string): RunOutcome => ({
  inputDigest: "00",
  journal: new Uint8Array(0),
  journalDigest: "00",
  fuelUsed: fuel,
  stateRoot: "00",
  state: new Uint8Array(0),
  ...(trap ? { trap: { kind: trap, message: "boom" } } : {}),
  claims: [],
});
// Larger than 2^63 (SQLite's integers) and than a float's 53 bits of mantissa: the sum must stay exact.
const BIG = 123_456_789_012_345_678_901_234_567n;

async function fill(store: ReturnType<typeof openSqliteStore>) {
  const w = store.worker;
  for (const [id, owner] of [
    [1n, "0xaaa"],
    [2n, "0xbbb"],
  ] as const)
    await store.insertDevice({
      deviceId: id,
      publicKey: { x: id, y: 1n },
      owner,
      chainId: 31337n,
      registry: "0x0",
      signature: { R8x: 1n, R8y: 2n, S: 3n },
      registeredAt: 0,
    });
  const a = applet("energy-sum", "a");
  const b = applet("threshold", "b");
  const reading = { seq: 1n } as never;
  const run = (ap: AppletSpec, dev: bigint, epoch: bigint, fuel: bigint, trap?: string, claims = true) =>
    w.recordRun({
      applet: ap,
      deviceId: dev,
      epoch,
      readings: [reading],
      stateBefore: undefined,
      outcome: outcome(fuel, trap),
      claims: claims ? [{ deviceId: dev, output: 7n }] : [],
      now: 60_000 * Number(epoch),
    });
  await w.upsertApplet(a, 0, 0);
  await w.upsertApplet(b, 0, 1);
  await run(a, 1n, 1n, 100n);
  await run(a, 2n, 1n, 200n);
  await run(b, 1n, 2n, 50n);
  await run(b, 2n, 2n, 5n, "OutOfFuel", false);
  await run(a, 1n, 3n, 9n, "Unreachable", false);
  const [c1, c2, c3] = (await w.listClaims(10)).reverse();
  const receipt = (circuit: string) => JSON.stringify({ seal: { circuit } });
  await w.markProved(c1!.id, receipt("applet_aaaa_k16"), "{}", 1200, 1);
  await w.markProved(c2!.id, receipt("applet_aaaa_k16"), "{}", 30_000, 2);
  await w.markProved(c3!.id, "not json", "{}", 400, 3);
  await w.markSubmitted(c1!.id, "0x1", 4);
  await w.markPaid(c1!.id, { reward: BIG, gasUsed: 300_000n }, 5 * 60_000);
  await w.markPaid(c2!.id, { reward: BIG + 1n, gasUsed: 290_000n }, 7 * 60_000 + 5);
  await w.markFailed(c3!.id, "refused", 1, 8);
  return { a, b };
}

describe("worker counters (SQLite triggers)", () => {
  it("agree with the rows they count: states, traps, fuel per applet, proofs per circuit, exact uint256 rewards", async () => {
    const store = openSqliteStore(":memory:");
    const { a, b } = await fill(store);
    const w = store.worker;
    expect(await w.claimCounts()).toEqual({ pending: 0, proved: 0, submitted: 0, paid: 2, failed: 1 });
    expect(await w.runCounts()).toEqual({ runs: 5, trapped: 2 });
    expect((await w.trapCounts()).sort((x, y) => x.kind.localeCompare(y.kind))).toEqual([
      { kind: "OutOfFuel", n: 1 },
      { kind: "Unreachable", n: 1 },
    ]);
    const t = await w.totals();
    expect(t).toEqual({
      fuelUsed: 364,
      proveMs: 31_600,
      proofs: 3,
      gasUsed: 590_000,
      paidClaims: 2,
      rewardPaid: 2n * BIG + 1n,
    });
    expect(await w.payouts(10)).toEqual({
      owners: 2,
      rows: expect.arrayContaining([
        { owner: "0xaaa", claims: 1, reward: BIG },
        { owner: "0xbbb", claims: 1, reward: BIG + 1n },
      ]),
    });
    expect((await w.payouts(1)).rows).toHaveLength(1);
    const act = await w.paidActivity(6);
    expect(act).toEqual({ claims: 2, reward: 2n * BIG + 1n, minutes: [{ minute: 7, claims: 1, reward: BIG + 1n }] });
    const h = await w.proveHistogram();
    const k16 = h.find((x) => x.circuit === "applet_aaaa_k16")!;
    expect(k16.count).toBe(2);
    expect(k16.sumMs).toBe(31_200);
    expect(k16.buckets.find((x) => x.le === 2.5)!.n).toBe(1);
    expect(k16.buckets.find((x) => x.le === 40)!.n).toBe(2);
    expect(h.find((x) => x.circuit === "unknown")!.buckets[0]).toEqual({ le: 0.5, n: 1 });
    expect(await w.applets()).toEqual([
      { imageId: a.imageId, name: "energy-sum", runs: 3, trapped: 1, fuelUsed: 309, quarantined: null },
      { imageId: b.imageId, name: "threshold", runs: 2, trapped: 1, fuelUsed: 55, quarantined: null },
    ]);
    expect(await w.oldestPending()).toBe(null);
    await store.close();
  });

  it("a database written before the counters existed is counted once when it migrates", async () => {
    // Fill a store, then drop the counters and replay the migration on the same rows: the backfill must agree.
    const store = openSqliteStore(":memory:");
    await fill(store);
    const w = store.worker;
    const before = {
      claims: await w.claimCounts(),
      totals: await w.totals(),
      payouts: await w.payouts(10),
      paid: await w.paidActivity(0),
      hist: await w.proveHistogram(),
      applets: await w.applets(),
      traps: await w.trapCounts(),
    };
    const db = sqliteHandleOf(store);
    const tables = db
      .prepare("SELECT type, name FROM sqlite_master WHERE sql LIKE '%' || ? || '%' AND type IN ('table', 'trigger')")
      .all("worker_") as { type: string; name: string }[];
    for (const t of tables.filter((t) => t.type === "trigger")) db.exec(`DROP TRIGGER ${t.name}`);
    for (const n of [
      "worker_claim_states",
      "worker_trap_kinds",
      "worker_totals",
      "worker_applet_totals",
      "worker_payouts",
      "worker_paid_minutes",
      "worker_prove_buckets",
      "worker_prove_sums",
    ])
      db.exec(`DROP TABLE ${n}`);
    db.exec("DROP INDEX worker_claims_state_age");
    db.prepare("DELETE FROM schema_migrations WHERE id = 'worker/002-counters'").run();
    migrate(db, storeMigrations);
    expect({
      claims: await w.claimCounts(),
      totals: await w.totals(),
      payouts: await w.payouts(10),
      paid: await w.paidActivity(0),
      hist: await w.proveHistogram(),
      applets: await w.applets(),
      traps: await w.trapCounts(),
    }).toEqual(before);
    await store.close();
  });

  it("the oldest pending claim is the earliest made among those still pending", async () => {
    const store = openSqliteStore(":memory:");
    const w = store.worker;
    const a = applet("x", "c");
    await w.upsertApplet(a, 0, 0);
    for (const [dev, at] of [
      [1n, 5_000],
      [2n, 3_000],
      [3n, 9_000],
    ] as const)
      await w.recordRun({
        applet: a,
        deviceId: dev,
        epoch: 1n,
        readings: [{ seq: 1n } as never],
        stateBefore: undefined,
        outcome: outcome(1n),
        claims: [{ deviceId: dev, output: 1n }],
        now: at,
      });
    expect(await w.oldestPending()).toBe(3_000);
    const oldest = (await w.listClaims(10)).find((c) => c.device_id === "2")!;
    await w.markProved(oldest.id, "{}", "{}", 1, 1);
    expect(await w.oldestPending()).toBe(5_000);
    await store.close();
  });
});
