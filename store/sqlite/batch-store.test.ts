/**
 * The worker's batches on a real SQLite file (issue 26): queued claims leave the single-claim path, a claim is in one
 * open batch at a time (BatchClaimTakenError, nothing stored), a failed batch gives its claims back to the queue, a
 * credited batch marks its claims paid with the credited reward, a claim refused for batching is failed and unqueued.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openStore, BatchClaimTakenError, type StoreSet } from "../index.ts";

const applet = { imageId: "ab".repeat(32), name: "sum", wasm: new Uint8Array([0, 97, 115, 109]), rewardPerUnit: 3n };
let dir: string;
let store: StoreSet;
afterEach(async () => {
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function withClaims(n: number): Promise<number[]> {
  dir = mkdtempSync(join(tmpdir(), "mfi-batch-store-"));
  store = openStore(join(dir, "db.sqlite"));
  await store.worker.upsertApplet(applet, 0, 0);
  for (let d = 1; d <= n; d++)
    await store.worker.recordRun({
      applet,
      deviceId: BigInt(d),
      epoch: 7n,
      readings: [{ seq: 1n, ts: 0n } as never],
      stateBefore: undefined,
      outcome: {
        inputDigest: "i",
        journal: new Uint8Array([1]),
        journalDigest: "j",
        fuelUsed: 1n,
        stateRoot: "s",
        state: new Uint8Array(),
        claims: [],
      },
      claims: [{ deviceId: BigInt(d), output: BigInt(10 * d) }],
      now: 0,
    });
  return (await store.worker.listClaims()).map((c) => c.id).sort();
}

describe("SqliteBatchStore", () => {
  it("queues, batches once, requeues a failed batch, credits with rewards, fails a refused claim", async () => {
    const [a, b, c] = await withClaims(3);
    const batches = store.batches!;
    await batches.queueClaims([a!, b!, c!], 100);
    await batches.queueClaims([a!], 200); // idempotent: queued once, at its first time
    // out of the single-claim path: not due any more
    expect(await store.worker.dueClaims("pending", Date.now(), 10)).toEqual([]);
    expect((await batches.queuedClaims()).map((q) => [q.claimId, q.queuedAtMs, q.batchId])).toEqual([
      [a, 100, null],
      [b, 100, null],
      [c, 100, null],
    ]);

    const first = await batches.createBatch({ imageId: applet.imageId, epoch: 7n, n: 2, claimIds: [a!, b!], now: 1 });
    // b is in an open batch: refused, and nothing of the second batch is stored
    await expect(
      batches.createBatch({ imageId: applet.imageId, epoch: 7n, n: 2, claimIds: [c!, b!], now: 2 }),
    ).rejects.toThrow(BatchClaimTakenError);
    expect((await batches.listBatches()).map((x) => x.id)).toEqual([first]);
    expect(await batches.claimsOf(first)).toEqual([a, b]);

    // a failed batch gives its claims back to the queue
    await batches.failBatch(first, "stale", 3);
    expect((await batches.queuedClaims()).every((q) => q.batchId === null)).toBe(true);
    expect(await batches.openBatches()).toEqual([]);

    const second = await batches.createBatch({ imageId: applet.imageId, epoch: 7n, n: 2, claimIds: [a!, b!], now: 4 });
    await batches.markBatchProved(second, {
      prevRoot: 1n,
      newRoot: 2n,
      proof: "0x",
      credits: "[]",
      proveMs: 5,
      now: 5,
    });
    await batches.markBatchSubmitted(second, "0xabc", 6);
    expect((await batches.openBatches()).map((x) => [x.id, x.state])).toEqual([[second, "submitted"]]);
    await batches.markBatchCredited(second, { txHash: null, gasUsed: 90_000n, rewardPerUnit: 3n, now: 7 });
    const claims = new Map((await store.worker.listClaims()).map((x) => [x.id, x]));
    expect([claims.get(a!)!.state, claims.get(a!)!.reward, claims.get(a!)!.tx_hash]).toEqual(["paid", "30", "0xabc"]);
    expect([claims.get(b!)!.state, claims.get(b!)!.reward]).toEqual(["paid", "60"]);
    expect((await batches.creditedBatches(applet.imageId)).map((x) => [x.id, x.gas_used])).toEqual([[second, 90000]]);

    // c cannot be batched: failed with the reason, out of the queue
    await batches.failQueuedClaim(c!, "already credited for this epoch", 8);
    expect(await batches.queuedClaims()).toEqual([]);
    expect([claims.get(c!)!.state, (await store.worker.listClaims()).find((x) => x.id === c)!.state]).toEqual([
      "pending",
      "failed",
    ]);
  });
});
