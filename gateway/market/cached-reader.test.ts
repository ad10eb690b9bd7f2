import { describe, expect, it } from "vitest";
import type { MarketChainReader } from "./chain-reader.ts";
import { cachedMarketReader } from "./cached-reader.ts";

const ZERO = "0x" + "0".repeat(40);
const OWNER = "0x1111111111111111111111111111111111111111";

/** An in-memory chain that counts its reads and answers after a tick, like an RPC. */
function countingReader() {
  const reads = { streamOf: 0, expiresAt: 0, chainTime: 0, deviceOwner: 0 };
  const state = { streams: new Map([[1n, { owner: OWNER, listed: true, deviceIds: [7n] }]]), time: 100n, fail: false };
  const tick = <T>(v: () => T) =>
    new Promise<T>((resolve, reject) =>
      setImmediate(() => (state.fail ? reject(new Error("rpc down")) : resolve(v()))),
    );
  const reader: MarketChainReader = {
    streamOf: (id) => (reads.streamOf++, tick(() => state.streams.get(id))),
    expiresAt: () => (reads.expiresAt++, tick(() => 0n)),
    chainTime: () => (reads.chainTime++, tick(() => state.time)),
    deviceOwner: (id) => (reads.deviceOwner++, tick(() => (id < 8n ? OWNER : ZERO))),
  };
  return { reads, state, reader };
}

describe("cachedMarketReader", () => {
  it("ten requests from an unsubscribed wallet cost ten subscription reads and one of each other kind", async () => {
    const { reads, reader } = countingReader();
    let t = 0;
    const cached = cachedMarketReader(reader, { now: () => t });
    // What authorise and a live feed read per request, ten requests at once.
    await Promise.all(
      Array.from({ length: 10 }, async () => {
        await cached.streamOf(1n);
        await cached.chainTime();
        await cached.expiresAt(1n, "0xAbC0000000000000000000000000000000000001");
        await cached.deviceOwner(7n);
      }),
    );
    expect(reads).toEqual({ streamOf: 1, expiresAt: 10, chainTime: 1, deviceOwner: 1 });
    // Chain time is shared for at most a second, streams and owners for ttlMs (2 s).
    t = 1_000;
    await cached.chainTime();
    await cached.streamOf(1n);
    expect(reads).toMatchObject({ streamOf: 1, chainTime: 2 });
    t = 2_000;
    await cached.streamOf(1n);
    expect(reads.streamOf).toBe(2);
  });

  it("never remembers a stream that does not exist yet, an unknown device's owner, or a failed read", async () => {
    const { reads, state, reader } = countingReader();
    const cached = cachedMarketReader(reader, { now: () => 0 });
    expect(await cached.streamOf(2n)).toBeUndefined();
    state.streams.set(2n, { owner: OWNER, listed: true, deviceIds: [] });
    expect(await cached.streamOf(2n)).toBeDefined(); // listed just now: served at once
    expect(await cached.deviceOwner(8n)).toBe(ZERO);
    await cached.deviceOwner(8n);
    expect(reads).toMatchObject({ streamOf: 2, deviceOwner: 2 });
    state.fail = true;
    await expect(cached.chainTime()).rejects.toThrow("rpc down");
    state.fail = false;
    expect(await cached.chainTime()).toBe(100n);
    expect(reads.chainTime).toBe(2);
  });

  it("keeps at most maxEntries per kind, and ttlMs 0 is the reader itself", async () => {
    const { reads, reader } = countingReader();
    const cached = cachedMarketReader(reader, { now: () => 0, maxEntries: 2 });
    for (const id of [1n, 2n, 3n]) await cached.deviceOwner(id);
    expect(reads.deviceOwner).toBe(3);
    await cached.deviceOwner(3n); // kept
    expect(reads.deviceOwner).toBe(3);
    await cached.deviceOwner(1n); // the oldest, evicted when 3 came
    expect(reads.deviceOwner).toBe(4);
    expect(cachedMarketReader(reader, { ttlMs: 0 })).toBe(reader);
  });
});
