/**
 * One behaviour suite for every BatchStore (./batch-types.ts): ./batch-store.test.ts runs it against SQLite and a real
 * Postgres server. Queued claims leave the single-claim path, a claim is in one open batch at a time (also when two
 * handles race for it: BatchClaimTakenError, nothing of the losing batch stored), a failed batch gives its claims back
 * to the queue, a credited batch marks its claims paid with output × reward per unit (exact beyond 2^64), a claim
 * refused for batching is failed and unqueued, and everything survives a reopen.
 */
import { describe, expect, it } from "vitest";
import { BatchClaimTakenError } from "./errors.ts";
import { recordClaimRun } from "./fixtures.ts";
import type { StoreBackend } from "./store-suite.ts";
import type { StoreSet } from "./types.ts";

const applet = {
  imageId: "ab".repeat(32),
  name: "sum",
  wasm: new Uint8Array([0, 97, 115, 109]),
  rewardPerUnit: 3n,
};
// Beyond 2^64: the credited reward must stay exact on both engines.
const PER_UNIT = 10n ** 30n + 7n;

async function withClaims(s: StoreSet, n: number, epoch = 7n): Promise<number[]> {
  await s.worker.upsertApplet(applet, 0, 0);
  for (let d = 1; d <= n; d++)
    await recordClaimRun(s.worker, { applet, deviceId: BigInt(d), epoch, output: BigInt(10 * d) });
  return (await s.worker.listClaims()).map((c) => c.id).sort((x, y) => x - y);
}

export function batchStoreSuite(b: StoreBackend): void {
  const withStore = async (f: (s: StoreSet, location: string) => Promise<void>) => {
    const location = await b.fresh();
    const s = await b.open(location);
    try {
      await f(s, location);
    } finally {
      await s.close();
    }
  };

  describe(`batch store suite: ${b.name}`, () => {
    it("queues, batches once, requeues a failed batch, credits with exact rewards, fails a refused claim", () =>
      withStore(async (s, location) => {
        const [a, bb, c] = await withClaims(s, 3);
        const batches = s.batches;
        await batches.queueClaims([a!, bb!, c!], 100);
        await batches.queueClaims([a!], 200); // idempotent: queued once, at its first time
        // out of the single-claim path: not due any more
        expect(await s.worker.dueClaims("pending", Date.now(), 10)).toEqual([]);
        expect((await batches.queuedClaims()).map((q) => [q.claimId, q.queuedAtMs, q.batchId])).toEqual([
          [a, 100, null],
          [bb, 100, null],
          [c, 100, null],
        ]);
        const q0 = (await batches.queuedClaims(applet.imageId))[1]!;
        expect([q0.deviceId, q0.epoch, q0.output, q0.imageId]).toEqual([2n, 7n, 20n, applet.imageId]);
        expect(await batches.queuedClaims("cd".repeat(32))).toEqual([]);

        const first = await batches.createBatch({
          imageId: applet.imageId,
          epoch: 7n,
          n: 2,
          claimIds: [a!, bb!],
          now: 1,
        });
        // bb is in an open batch: refused, and nothing of the second batch is stored
        await expect(
          batches.createBatch({ imageId: applet.imageId, epoch: 7n, n: 2, claimIds: [c!, bb!], now: 2 }),
        ).rejects.toThrow(BatchClaimTakenError);
        expect((await batches.listBatches()).map((x) => x.id)).toEqual([first]);
        expect(await batches.claimsOf(first)).toEqual([a, bb]);
        expect((await batches.queuedClaims()).find((q) => q.claimId === c)!.batchId).toBe(null);
        expect(await batches.getBatch(first)).toMatchObject({ state: "proving", n: 2, devices: 2, epoch: "7" });

        // a failed batch gives its claims back to the queue
        await batches.failBatch(first, "stale", 3);
        expect((await batches.queuedClaims()).every((q) => q.batchId === null)).toBe(true);
        expect(await batches.openBatches()).toEqual([]);
        expect(await batches.claimsOf(first)).toEqual([]);
        expect(await batches.getBatch(first)).toMatchObject({ state: "failed", error: "stale" });

        const second = await batches.createBatch({
          imageId: applet.imageId,
          epoch: 7n,
          n: 2,
          claimIds: [a!, bb!],
          now: 4,
        });
        await batches.markBatchProved(second, {
          prevRoot: 1n,
          newRoot: 2n,
          proof: "0x",
          credits: "[]",
          proveMs: 5,
          now: 5,
        });
        expect(await batches.getBatch(second)).toMatchObject({
          state: "proved",
          prev_root: "1",
          new_root: "2",
          prove_ms: 5,
        });
        await batches.markBatchSubmitted(second, "0xabc", 6);
        expect((await batches.openBatches()).map((x) => [x.id, x.state])).toEqual([[second, "submitted"]]);
        await batches.markBatchCredited(second, { txHash: null, gasUsed: 90_000n, rewardPerUnit: PER_UNIT, now: 7 });
        const claims = new Map((await s.worker.listClaims()).map((x) => [x.id, x]));
        expect([claims.get(a!)!.state, claims.get(a!)!.reward, claims.get(a!)!.tx_hash]).toEqual([
          "paid",
          (10n * PER_UNIT).toString(),
          "0xabc",
        ]);
        expect([claims.get(bb!)!.state, claims.get(bb!)!.reward]).toEqual(["paid", (20n * PER_UNIT).toString()]);
        expect((await batches.creditedBatches(applet.imageId)).map((x) => [x.id, x.gas_used, x.tx_hash])).toEqual([
          [second, 90000, "0xabc"],
        ]);
        expect(await batches.creditedBatches("cd".repeat(32))).toEqual([]);
        // the paid claims left the queue (it lists pending claims only)
        expect((await batches.queuedClaims()).map((q) => q.claimId)).toEqual([c]);

        // c cannot be batched: failed with the reason, out of the queue
        await batches.failQueuedClaim(c!, "already credited for this epoch", 8);
        expect(await batches.queuedClaims()).toEqual([]);
        expect((await s.worker.listClaims()).find((x) => x.id === c)).toMatchObject({
          state: "failed",
          error: "already credited for this epoch",
        });
        expect((await batches.listBatches()).map((x) => [x.id, x.state])).toEqual([
          [second, "credited"],
          [first, "failed"],
        ]);
        expect((await batches.listBatches(1)).map((x) => x.id)).toEqual([second]);
        // the worker's status (the dashboard's read) lists the same batches
        expect(await s.worker.listBatches(1)).toEqual(await batches.listBatches(1));
        expect((await s.worker.listBatches()).map((x) => x.id)).toEqual([second, first]);

        // a reopen (a restart) finds every batch where it was
        const again = await b.open(location);
        try {
          expect((await again.batches.listBatches()).map((x) => [x.id, x.state, x.devices])).toEqual([
            [second, "credited", 2],
            [first, "failed", 2],
          ]);
          expect(await again.batches.claimsOf(second)).toEqual([a, bb]);
        } finally {
          await again.close();
        }
      }));

    it("two handles racing to batch the same claims: one batch takes them, the other stores nothing", () =>
      withStore(async (s, location) => {
        const ids = await withClaims(s, 4);
        await s.batches.queueClaims(ids, 1);
        const other = await b.open(location);
        try {
          const make = (st: StoreSet, now: number) =>
            st.batches.createBatch({ imageId: applet.imageId, epoch: 7n, n: 4, claimIds: ids, now });
          const results = await Promise.allSettled([make(s, 2), make(other, 3)]);
          const won = results.filter((r) => r.status === "fulfilled");
          const lost = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
          expect(won).toHaveLength(1);
          expect(lost).toHaveLength(1);
          expect(lost[0]!.reason).toBeInstanceOf(BatchClaimTakenError);
          const all = await s.batches.listBatches();
          expect(all).toHaveLength(1);
          expect(await s.batches.claimsOf(all[0]!.id)).toEqual(ids);
        } finally {
          await other.close();
        }
      }));
  });
}
