/**
 * The start lock on a real embedded Postgres: a start waits while another start holds the lock, says every
 * `logEveryMs` who holds it (never silently forever), and runs once the lock is freed.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestPostgres, type TestPostgres } from "../../store/postgres/testing.ts";
import { withStartLock } from "./leader.ts";

describe("withStartLock", () => {
  let db: TestPostgres;
  beforeAll(async () => {
    db = await startTestPostgres();
  }, 60_000);
  afterAll(async () => {
    await db?.stop();
  });

  it("a start waiting on a wedged one logs who holds the lock while it waits, and runs once the lock is freed", async () => {
    const url = await db.createDatabase();
    let unwedge!: () => void;
    let holding!: () => void;
    const held = new Promise<void>((r) => (holding = r));
    const first = withStartLock(url, async () => {
      holding();
      await new Promise<void>((r) => (unwedge = r));
      return "first";
    });
    await held;
    const logs: string[] = [];
    let secondRan = false;
    const second = withStartLock(
      url,
      async () => {
        secondRan = true;
        return "second";
      },
      { log: (m) => logs.push(m), retryMs: 20, logEveryMs: 100 },
    );
    const t0 = Date.now();
    while (logs.length < 2 && Date.now() - t0 < 20_000) await new Promise((r) => setTimeout(r, 20));
    expect(secondRan).toBe(false);
    expect(logs[0]).toMatch(
      /^waiting \d+ s for the start lock: held by pid \d+ \(mfi-start.*pg_terminate_backend\(\d+\)/,
    );
    unwedge();
    expect(await first).toBe("first");
    expect(await second).toBe("second");
  }, 60_000);
});
