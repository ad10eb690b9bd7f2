/**
 * Property: whatever arrives (random JSON, mutated readings, junk headers), the gateway never answers 500, never
 * throws, and a rejected request leaves the store exactly as it was. Readings are signed once up front.
 */
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { buildJsBackend, encodeSignature, type EddsaBackend, type WireReading } from "../device-sdk/index.ts";
import { createGateway, type Gateway } from "./index.ts";
import { makeChain, registrationBody, testKey } from "./testing.ts";

let backend: EddsaBackend;
let gw: Gateway;
let pool: unknown[];
let idA: string;

async function snapshot(g: Gateway) {
  const devices = await g.store.listDevices();
  const heads = await Promise.all(devices.map((d) => g.store.lastReading(d.deviceId)));
  return JSON.stringify({
    n: await g.store.countReadings(),
    devices: devices.length,
    heads: heads.map((h) => h?.hash.toString()),
  });
}

beforeAll(async () => {
  backend = await buildJsBackend();
  gw = await createGateway({
    dbPath: ":memory:",
    backend,
    verifyWorkers: 0,
    maxClockSkewMs: null,
    rateLimit: { perSecond: 1000, burst: 1000 },
    maxBatch: 10,
    maxBodyBytes: 8192,
  });
  const A = testKey(backend, 1);
  const B = testKey(backend, 2);
  idA = A.deviceId.toString();
  await gw.app.request("/v1/devices", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(registrationBody(backend, A)),
  });
  const c = makeChain(backend, A, 4);
  const batch = makeChain(backend, A, 3, { state: c.state, signMode: "last" });
  const forkB = makeChain(backend, B, 2);
  const byB: WireReading = {
    ...c.wire[1]!,
    signature: encodeSignature(backend.sign(B.privateKey, c.readings[1]!.hash)),
  };
  pool = [
    ...c.wire,
    byB,
    ...forkB.wire,
    { readings: batch.wire },
    { readings: batch.wire.slice(0, 2) },
    { readings: [c.wire[0], c.wire[2]] },
    registrationBody(backend, B),
    registrationBody(backend, A),
  ];
});

const fieldValue = fc.oneof(
  fc.bigInt({ min: -(1n << 300n), max: 1n << 300n }).map(String),
  fc.integer().map(String),
  fc.constantFrom("", "-0", "01", "1e3", "0x10", " 1", "NaN"),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
);

/** A pre-made body with one field replaced, removed or retyped. */
const mutated = fc
  .tuple(
    fc.nat(),
    fc.constantFrom("seq", "ts", "values", "prev", "signature", "deviceId", "readings", "owner", "publicKey", "extra"),
    fc.oneof(fieldValue, fc.array(fieldValue, { maxLength: 6 }), fc.constant(undefined)),
  )
  .map(([i, k, v]) => ({ ...(pool[i % pool.length] as object), [k]: v }));

const body = fc.oneof(
  fc.nat().map((i) => JSON.stringify(pool[i % pool.length])),
  mutated.map((b) => JSON.stringify(b)),
  fc.json({ maxDepth: 3 }),
  fc.string({ maxLength: 200 }),
  fc.constant("x".repeat(9000)),
);

const path = fc.oneof(
  fc.constantFrom(
    `/v1/devices/${"ID"}/readings`,
    `/v1/devices/${"ID"}/readings/batch`,
    "/v1/devices",
    `/v1/devices/ID`,
    "/v1/devices/123/readings",
    "/v1/devices/-1/readings/batch",
    "/healthz",
    "/openapi.json",
  ),
  fc.webPath(),
);

const headers = fc.dictionary(
  fc
    .stringMatching(/^[a-z][a-z0-9-]{0,15}$/)
    .filter((h) => !["content-length", "transfer-encoding", "host", "connection", "expect"].includes(h)),
  fc.stringMatching(/^[\x20-\x7e]{0,40}$/).map((s) => s.trim()),
  { maxKeys: 4 },
);

interface Req {
  url: string;
  init: RequestInit;
}

/** Requests aimed at the ingest routes (so pre-made readings do land) and requests that are anything at all. */
const aimed = fc
  .tuple(
    fc.boolean(),
    fc.oneof(
      fc.nat().map((i) => JSON.stringify(pool[i % pool.length])),
      mutated.map((b) => JSON.stringify(b)),
    ),
    headers,
  )
  .map(([batch, b, hs]): Req => ({
    url: `/v1/devices/ID/readings${batch ? "/batch" : ""}`,
    init: { method: "POST", headers: { ...hs, "content-type": "application/json" }, body: b },
  }));
const anything = fc
  .tuple(
    path,
    fc.constantFrom("POST", "POST", "GET", "PUT"),
    fc.constantFrom("application/json", "text/plain", undefined),
    headers,
    body,
  )
  .map(([p, method, ct, hs, b]): Req => ({
    url: p,
    init: {
      method,
      headers: { ...hs, ...(ct ? { "content-type": ct } : {}) },
      ...(method === "GET" ? {} : { body: b }),
    },
  }));

describe("fuzzed requests", () => {
  it("never 500, never throws, and rejected requests do not change the store", async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(aimed, anything), async ({ url: u, init }) => {
        const url = u.replace(/ID/g, idA);
        const before = await snapshot(gw);
        const res = await gw.app.request(url, init);
        await res.arrayBuffer();
        expect(res.status, `${init.method} ${url} ${String(init.body).slice(0, 200)}`).toBeLessThan(500);
        if (res.status >= 400) expect(await snapshot(gw)).toBe(before);
      }),
      { numRuns: 400 },
    );
    // The valid pre-made readings did get in along the way, so accepting paths were exercised too.
    expect(await gw.store.countReadings()).toBeGreaterThan(0);
  }, 180_000);
});
