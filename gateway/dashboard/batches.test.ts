/**
 * The dashboard's batches (issue 26) from a real SQLite store: /dashboard.json's `batches` (state, devices of N,
 * applet, epoch window, tx, gas) newest first and capped, and the page's Batches table; no section without batches.
 */
import { describe, expect, it } from "vitest";
import { packEpoch } from "../../device-sdk/index.ts";
import { openStore } from "../../store/index.ts";
import { recordClaimRun } from "../../store/fixtures.ts";
import { loadDashboard } from "./data.ts";
import { DashboardPage } from "./page.tsx";

const applet = {
  imageId: "0x" + "ab".repeat(32),
  name: "energy-sum",
  wasm: new Uint8Array([0, 97, 115, 109]),
  rewardPerUnit: 1n,
};
const epoch = packEpoch({ startMs: 1_800_000_000_000n, lengthMs: 60_000n });

describe("dashboard batches", () => {
  it("lists the latest batches with state, devices of N, applet, epoch and tx; the page shows them", async () => {
    const store = openStore(":memory:");
    const render = async (limit = 25) => {
      const d = await loadDashboard({ readings: store, worker: store.worker }, { now: 1_800_000_100_000, limit });
      return { d, html: String(DashboardPage({ d, refreshSeconds: 5 })) };
    };
    // Nothing batched: no section.
    expect((await render()).d.batches).toEqual([]);
    expect((await render()).html).not.toContain('id="batches"');

    await store.worker.upsertApplet(applet, 0, 0);
    for (let dev = 1n; dev <= 3n; dev++)
      await recordClaimRun(store.worker, { applet, deviceId: dev, epoch, output: 5n });
    const ids = (await store.worker.listClaims()).map((c) => c.id).sort((a, b) => a - b);
    const b = store.batches;
    await b.queueClaims(ids, 1);
    const failed = await b.createBatch({ imageId: applet.imageId, epoch, n: 2, claimIds: ids.slice(0, 2), now: 2 });
    await b.failBatch(failed, "BatchVault__StaleRoot", 3);
    const credited = await b.createBatch({ imageId: applet.imageId, epoch, n: 2, claimIds: ids.slice(0, 2), now: 4 });
    await b.markBatchProved(credited, {
      prevRoot: 0n,
      newRoot: 1n,
      proof: "0x",
      credits: "[]",
      proveMs: 24_500,
      now: 5,
    });
    await b.markBatchSubmitted(credited, "0x" + "cd".repeat(32), 6);
    await b.markBatchCredited(credited, { txHash: null, gasUsed: 284_126n, rewardPerUnit: 1n, now: 7 });
    const proving = await b.createBatch({ imageId: applet.imageId, epoch, n: 2, claimIds: ids.slice(2), now: 8 });

    const { d, html } = await render();
    expect(d.batches.map((x) => [x.id, x.state, x.devices, x.n, x.applet, x.gasUsed, x.error])).toEqual([
      [proving, "proving", 1, 2, "energy-sum", null, null],
      [credited, "credited", 2, 2, "energy-sum", 284_126, null],
      [failed, "failed", 2, 2, "energy-sum", null, "BatchVault__StaleRoot"],
    ]);
    const c = d.batches[1]!;
    expect([c.epochStart, c.epochEnd, c.txHash, c.proveMs]).toEqual([
      1_800_000_000_000,
      1_800_000_060_000,
      "0x" + "cd".repeat(32),
      24_500,
    ]);
    // JSON-safe as /dashboard.json serves it
    expect(JSON.parse(JSON.stringify(d)).batches).toHaveLength(3);
    expect(html).toContain('id="batches"');
    expect(html).toMatch(new RegExp(`data-batch="${credited}" data-state="credited"`));
    expect(html).toContain("2 of 2");
    expect(html).toContain("142,063"); // gas per device: 284,126 / 2
    expect(html).toContain("BatchVault__StaleRoot");
    // capped like every table
    expect((await render(1)).d.batches.map((x) => x.id)).toEqual([proving]);
    await store.close();
  });
});
