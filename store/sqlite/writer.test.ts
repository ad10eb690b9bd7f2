import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { afterAll, describe, expect, it, vi } from "vitest";
import { genesisHash, padValues, type SignedReading } from "../../device-sdk/index.ts";
import { openSqliteStore, sqliteHandleOf } from "./open.ts";
import { WAL_AUTOCHECKPOINT_PAGES } from "./pragmas.ts";
import { threadWriter } from "./writer.ts";

const dir = mkdtempSync(join(tmpdir(), "mfi-writer-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const chain = (d: bigint, n: number): SignedReading[] => {
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

describe("threadWriter", () => {
  it("reports unhealthy once its thread failed, so /readyz says not ready instead of accepting posts it cannot store", async () => {
    // A database the thread cannot open: the first append starts the thread, which fails.
    const w = threadWriter("/nonexistent-dir-for-mfi-test/x.sqlite", "FULL");
    expect(w.healthy()).toBe(true);
    await expect(w.run([{ deviceId: 1n, readings: [], receivedAt: 0 }])).rejects.toThrow();
    expect(w.healthy()).toBe(false);
    await expect(w.run([])).rejects.toThrow();
    await w.close();
  }, 60_000);

  it("close() with groups in flight: both are answered, the thread closes its connection and exits by itself, never terminate()d", async () => {
    // terminate() (or exit) while the thread runs SQLite's native code (a commit, the checkpoint of db.close()) tore
    // better-sqlite3 down under it: the devnet-stop crash. close() used to resolve on whichever message came next,
    // often a group's answer rather than the thread's goodbye, and then terminate() it mid-close.
    const path = join(dir, "in-flight.sqlite");
    await openSqliteStore(path).close(); // the schema
    const terminate = vi.spyOn(Worker.prototype, "terminate");
    try {
      const w = threadWriter(path, "FULL");
      const first = w.run([{ deviceId: 1n, readings: chain(1n, 50), receivedAt: 1 }]);
      const second = w.run([{ deviceId: 2n, readings: chain(2n, 50), receivedAt: 1 }]);
      await w.close();
      expect(await first).toEqual([{ ok: true }]);
      expect(await second).toEqual([{ ok: true }]);
      expect(terminate).not.toHaveBeenCalled();
      expect(w.healthy()).toBe(false);
      await expect(w.run([])).rejects.toThrow(/exited/);
    } finally {
      terminate.mockRestore();
    }
    const again = openSqliteStore(path);
    expect(await again.countReadings()).toBe(100);
    await again.close();
  }, 30_000);

  it("checkpoints the WAL only past WAL_AUTOCHECKPOINT_PAGES, on the writer thread and on the store's own connection", async () => {
    // SQLite's default (1,000 pages) made the writer thread copy the same hot pages into the database file every ~30
    // group commits. Both connections must share the threshold: the store's own would otherwise checkpoint the
    // writer's WAL on the event loop at its next commit.
    const path = join(dir, "wal.sqlite");
    const s = openSqliteStore(path);
    expect(sqliteHandleOf(s).pragma("wal_autocheckpoint", { simple: true })).toBe(WAL_AUTOCHECKPOINT_PAGES);
    const devices = 200;
    const chains = Array.from({ length: devices }, (_, k) => chain(BigInt(k + 1), 200));
    // Each round's appends land in a group or two, each touching a leaf of `readings` and of its ts index per device:
    // ~350 WAL pages a round, ~7,000 in all.
    for (let i = 0; i < 200; i += 10)
      for (const r of await Promise.all(chains.map((c) => s.appendReadings(c[0]!.deviceId, c.slice(i, i + 10), 1))))
        expect(r.ok).toBe(true);
    const walPages = statSync(`${path}-wal`).size / (4096 + 24);
    // At 1,000 the WAL would have been checkpointed and restarted, staying near 1,000 pages plus one group's.
    expect(walPages).toBeGreaterThan(2500);
    expect(walPages).toBeLessThan(WAL_AUTOCHECKPOINT_PAGES + 2000);
    expect(await s.countReadings()).toBe(devices * 200);
    await s.close();
  }, 60_000);

  // The production write path end to end in its own process, because a native crash takes the process down with it.
  for (const mode of ["close", "exit"] as const) {
    it(`a process that ${mode === "close" ? "closes the store while appends are in flight" : "exits while groups are in flight"} on the writer thread exits cleanly${mode === "close" ? ", every acknowledged reading stored" : ""}`, async () => {
      const path = join(dir, `exit-${mode}.sqlite`);
      const r = spawnSync(
        process.execPath,
        ["--import", "./cli/register.mjs", "store/sqlite/writer-exit.fixture.ts", path, mode],
        { encoding: "utf8", timeout: 60_000 },
      );
      expect({ status: r.status, signal: r.signal, stderr: r.stderr }).toEqual({ status: 0, signal: null, stderr: "" });
      const again = openSqliteStore(path);
      if (mode === "close") expect(await again.countReadings()).toBe(Number(r.stdout.trim()));
      else expect(await again.countReadings()).toBeGreaterThan(0);
      await again.close();
    }, 60_000);
  }
});
