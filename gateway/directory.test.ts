import { describe, expect, it } from "vitest";
import { storeDirectory } from "./directory.ts";
import { openStore } from "../store/index.ts";

describe("storeDirectory", () => {
  it("holds at most maxCached devices (registration spam cannot grow it); an evicted device is read from the store again", async () => {
    const store = openStore(":memory:");
    try {
      const dir = storeDirectory(store, { maxCached: 3 });
      const rec = (n: bigint) => ({
        deviceId: n,
        publicKey: { x: n, y: n + 1n },
        owner: "0x1111111111111111111111111111111111111111",
        chainId: 31337n,
        registry: "0x0000000000000000000000000000000000000000",
        signature: { R8x: 1n, R8y: 2n, S: 3n },
        registeredAt: 0,
      });
      for (let n = 1n; n <= 10n; n++) expect((await dir.register(rec(n))).created).toBe(true);
      expect(dir.cached!()).toBe(3);
      expect((await dir.get(1n))?.publicKey).toEqual({ x: 1n, y: 2n });
      expect(await dir.get(11n)).toBeUndefined();
      expect(dir.cached!()).toBe(3);
    } finally {
      await store.close();
    }
  });
});
