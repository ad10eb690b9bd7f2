/**
 * Attack: a reading older than its predecessor. The circuits assume ts never decreases along a chain (the window
 * checks rely on it), so the gateway must never store such a chain and the SDK must never sign one.
 */
import { beforeAll, describe, expect, it } from "vitest";
import {
  buildJsBackend,
  encodeReading,
  extendChain,
  initialChainState,
  TimestampOrderError,
  type EddsaBackend,
} from "../../device-sdk/index.ts";
import { createGateway, type Gateway } from "../../gateway/index.ts";
import { registrationBody, testKey } from "../../gateway/testing.ts";

describe("attack: timestamps that go backwards along a chain", () => {
  let backend: EddsaBackend;
  let gw: Gateway;
  beforeAll(async () => {
    backend = await buildJsBackend();
    gw = await createGateway({ dbPath: ":memory:", backend, verifyWorkers: 0, maxClockSkewMs: null, rateLimit: false });
  });

  async function post(path: string, body: unknown) {
    const res = await gw.app.request(path, {
      method: "POST",
      body: JSON.stringify(body),
      headers: { "content-type": "application/json" },
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  it("timestamps: a batch whose ts goes backwards inside it gets 422 and the store is unchanged", async () => {
    const key = testKey(backend, 41);
    expect((await post("/v1/devices", registrationBody(backend, key))).status).toBeLessThan(300);
    // Signed by hand, as an attacker would (the SDK refuses to build this chain).
    const state = initialChainState(key.deviceId);
    const a = extendChain({ backend, key, state, inputs: [{ ts: 2_000, values: [1] }] });
    const b = extendChain({
      backend,
      key,
      state: { ...a.state, lastTs: undefined },
      inputs: [{ ts: 1_000, values: [2] }],
    });
    const before = await gw.store.countReadings();
    const r = await post(`/v1/devices/${key.deviceId}/readings/batch`, {
      readings: [...a.readings, ...b.readings].map(encodeReading),
    });
    expect(r.status, JSON.stringify(r.body)).toBe(422);
    expect(JSON.stringify(r.body)).toMatch(/reading 1 has ts 1000, below reading 0's 2000/);
    expect(await gw.store.countReadings()).toBe(before);
  });

  it("timestamps: a reading older than the stored head gets 422 and the store is unchanged", async () => {
    const key = testKey(backend, 42);
    expect((await post("/v1/devices", registrationBody(backend, key))).status).toBeLessThan(300);
    const a = extendChain({
      backend,
      key,
      state: initialChainState(key.deviceId),
      inputs: [{ ts: 5_000, values: [1] }],
    });
    expect((await post(`/v1/devices/${key.deviceId}/readings`, encodeReading(a.readings[0]!))).status).toBe(201);
    const b = extendChain({
      backend,
      key,
      state: { ...a.state, lastTs: undefined },
      inputs: [{ ts: 4_999, values: [2] }],
    });
    const before = await gw.store.countReadings();
    const r = await post(`/v1/devices/${key.deviceId}/readings`, encodeReading(b.readings[0]!));
    expect(r.status, JSON.stringify(r.body)).toBe(422);
    expect(await gw.store.countReadings()).toBe(before);
    // An equal ts is fine (non-decreasing, not increasing).
    const c = extendChain({ backend, key, state: a.state, inputs: [{ ts: 5_000, values: [3] }] });
    expect((await post(`/v1/devices/${key.deviceId}/readings`, encodeReading(c.readings[0]!))).status).toBe(201);
  });

  it("timestamps: the SDK refuses to sign a reading older than its predecessor (TimestampOrderError), nothing signed", () => {
    const key = testKey(backend, 43);
    const a = extendChain({
      backend,
      key,
      state: initialChainState(key.deviceId),
      inputs: [{ ts: 10_000, values: [1] }],
    });
    expect(() => extendChain({ backend, key, state: a.state, inputs: [{ ts: 9_999, values: [1] }] })).toThrow(
      TimestampOrderError,
    );
    expect(() =>
      extendChain({
        backend,
        key,
        state: a.state,
        inputs: [
          { ts: 10_001, values: [1] },
          { ts: 10_000, values: [1] },
        ],
      }),
    ).toThrow(TimestampOrderError);
    expect(extendChain({ backend, key, state: a.state, inputs: [{ ts: 10_000, values: [1] }] }).state.lastTs).toBe(
      10_000n,
    );
  });
});
