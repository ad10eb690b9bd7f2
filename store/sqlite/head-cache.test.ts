import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildJsBackend } from "../../device-sdk/index.ts";
import { makeChain, testKey } from "../../gateway/testing.ts";
import { openSqliteStore } from "./open.ts";

describe("SQLite head cache and a second appender on the same file", () => {
  it("with headCache false, a store sees the head another store appended; with the cache it keeps the stale one", async () => {
    const backend = await buildJsBackend();
    const key = testKey(backend, 1);
    const { readings } = makeChain(backend, key, 2);
    const path = join(mkdtempSync(join(tmpdir(), "mfi-heads-")), "g.sqlite");
    const a = openSqliteStore(path);
    const cached = openSqliteStore(path);
    const fresh = openSqliteStore(path, { headCache: false });
    try {
      // the registration signature is not checked by the store: any signature fills the row
      await a.insertDevice({
        deviceId: key.deviceId,
        publicKey: key.publicKey,
        owner: "0x1111111111111111111111111111111111111111",
        chainId: 31337n,
        registry: "0x0000000000000000000000000000000000000000",
        signature: readings[0]!.signature!,
        registeredAt: 1,
      });
      expect((await a.appendReadings(key.deviceId, [readings[0]!], 1)).ok).toBe(true);
      expect((await cached.lastReading(key.deviceId))!.seq).toBe(1n);
      expect((await fresh.lastReading(key.deviceId))!.seq).toBe(1n);
      expect((await a.appendReadings(key.deviceId, [readings[1]!], 2)).ok).toBe(true);
      expect((await cached.lastReading(key.deviceId))!.seq).toBe(1n);
      expect((await fresh.lastReading(key.deviceId))!.seq).toBe(2n);
      // the append's own check refuses what the stale cache would let through
      expect((await cached.appendReadings(key.deviceId, [readings[1]!], 3)).ok).toBe(false);
    } finally {
      await Promise.all([a.close(), cached.close(), fresh.close()]);
    }
  });
});
