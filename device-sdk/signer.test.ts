import { describe, expect, it } from "vitest";
import { genesisHash, hashReading } from "./chain.ts";
import { buildJsBackend } from "./eddsa-js.ts";
import { loadDeviceKey } from "./keys.ts";
import { extendChain, initialChainState, TimestampOrderError } from "./signer.ts";
import { decodeReading, encodeReading } from "./wire.ts";

describe("extendChain", async () => {
  const backend = await buildJsBackend();
  const key = loadDeviceKey(backend, new Uint8Array(32).fill(9));

  it("links seq, prev and hash, signing every reading or only the last", () => {
    const a = extendChain({
      backend,
      key,
      state: initialChainState(key.deviceId),
      inputs: [
        { ts: 10, values: [1] },
        { ts: 20, values: [2n, -3n] },
      ],
      now: () => 0,
    });
    expect(a.readings.map((r) => r.seq)).toEqual([1n, 2n]);
    expect(a.readings[0]!.prev).toBe(genesisHash(key.deviceId));
    expect(a.readings[1]!.prev).toBe(a.readings[0]!.hash);
    expect(a.readings[1]!.values).toEqual([2n, -3n, 0n, 0n]);
    for (const r of a.readings) {
      expect(r.hash).toBe(hashReading(r));
      expect(backend.verify({ msg: r.hash, sig: r.signature!, publicKey: key.publicKey })).toBe(true);
    }
    const b = extendChain({
      backend,
      key,
      state: a.state,
      inputs: [{ values: [] }, { values: [] }, { values: [4] }],
      signMode: "last",
      now: () => 1234,
    });
    expect(b.readings.map((r) => r.signature !== null)).toEqual([false, false, true]);
    expect(b.readings[0]!.prev).toBe(a.state.lastHash);
    expect(b.readings[0]!.ts).toBe(1234n);
    expect(b.state).toEqual({ seq: 5n, lastHash: b.readings[2]!.hash, lastTs: b.readings[2]!.ts });
  });

  it("refuses a ts below its predecessor's (TimestampOrderError, nothing signed), accepts an equal one", () => {
    const a = extendChain({ backend, key, state: initialChainState(key.deviceId), inputs: [{ ts: 500, values: [1] }] });
    let signed = 0;
    const counting = {
      ...backend,
      sign: (...args: Parameters<typeof backend.sign>) => (signed++, backend.sign(...args)),
    };
    const err = (() => {
      try {
        extendChain({
          backend: counting,
          key,
          state: a.state,
          inputs: [
            { ts: 600, values: [] },
            { ts: 599, values: [] },
          ],
        });
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(TimestampOrderError);
    expect(err).toMatchObject({ ts: 599n, previousTs: 600n });
    expect(() => extendChain({ backend: counting, key, state: a.state, inputs: [{ ts: 499, values: [] }] })).toThrow(
      TimestampOrderError,
    );
    expect(signed).toBe(0);
    expect(extendChain({ backend, key, state: a.state, inputs: [{ ts: 500, values: [] }] }).state).toMatchObject({
      seq: 2n,
      lastTs: 500n,
    });
  });

  it("round-trips the wire format", () => {
    const { readings } = extendChain({
      backend,
      key,
      state: initialChainState(key.deviceId),
      inputs: [{ ts: 1, values: [-(1n << 63n)] }],
    });
    const w = JSON.parse(JSON.stringify(encodeReading(readings[0]!)));
    const back = decodeReading(w);
    expect(back.values[0]).toBe(-(1n << 63n));
    expect(hashReading(back)).toBe(readings[0]!.hash);
    expect(back.signature).toEqual(readings[0]!.signature);
  });
});
