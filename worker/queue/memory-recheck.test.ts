/**
 * The in-process queue's re-check (issue 23): with `stillDue: pendingAtAttempt(store)` a job whose claim moved on
 * while it waited (proved by another job, failed, retried at a later attempt) is skipped, not proved again. Real SQLite.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { openStore, type StoreSet } from "../../store/index.ts";
import { InProcessProveQueue, pendingAtAttempt } from "./memory.ts";

let dir: string;
let store: StoreSet;
afterEach(async () => {
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

it("skips a job whose claim is no longer pending at the job's attempt", async () => {
  dir = mkdtempSync(join(tmpdir(), "mfi-queue-recheck-"));
  store = openStore(join(dir, "db.sqlite"));
  const w = store.worker;
  const applet = {
    imageId: `0x${"d".repeat(64)}`,
    name: "q",
    wasm: new Uint8Array([0, 97, 115, 109]),
    rewardPerUnit: 1n,
  };
  await w.upsertApplet(applet, 0, 0);
  for (let d = 1n; d <= 4n; d++)
    await w.recordRun({
      applet,
      deviceId: d,
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
      claims: [{ deviceId: d, output: 5n }],
      now: 0,
    });
  const [proved, failed, retried, due] = await w.dueClaims("pending", Date.now(), 10);
  const q = new InProcessProveQueue({ stillDue: pendingAtAttempt(w) });
  await q.enqueue([proved!, failed!, retried!, due!]);
  // While the jobs wait: one claim is proved elsewhere, one failed, one retried at attempt 1.
  await w.markProved(proved!.id, "{}", "{}", 1, 1);
  await w.markFailed(failed!.id, "gone", 1, 1);
  await w.reschedule(retried!.id, "pending", 1, 0, "first try failed");
  const seen: number[] = [];
  await q.work(async (c) => {
    seen.push(c.id);
  }, 1);
  while (q.busy > 0) await new Promise((r) => setTimeout(r, 10));
  expect(seen).toEqual([due!.id]);
  await q.stop();
});
