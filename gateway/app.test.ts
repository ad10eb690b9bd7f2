import { beforeAll, describe, expect, it } from "vitest";
import {
  buildJsBackend,
  encodeReading,
  encodeSignature,
  type EddsaBackend,
  type WireReading,
} from "../device-sdk/index.ts";
import { createGateway, type Gateway } from "./index.ts";
import { DEV_OWNER, makeChain, registrationBody, testKey } from "./testing.ts";

let backend: EddsaBackend;
let gw: Gateway;
const json = (body: unknown, headers: Record<string, string> = {}) => ({
  method: "POST",
  body: typeof body === "string" ? body : JSON.stringify(body),
  headers: { "content-type": "application/json", ...headers },
});

async function post(g: Gateway, path: string, body: unknown, headers?: Record<string, string>) {
  const res = await g.app.request(path, json(body, headers));
  return {
    status: res.status,
    type: res.headers.get("content-type"),
    headers: res.headers,
    body: (await res.json()) as Record<string, any>,
  };
}

/** Run a request that must be refused, and check it left the store exactly as it was. */
async function rejected(g: Gateway, path: string, body: unknown, status: number, headers?: Record<string, string>) {
  const before = await g.store.countReadings();
  const r = await post(g, path, body, headers);
  expect(r.status, JSON.stringify(r.body)).toBe(status);
  expect(r.type).toBe("application/problem+json");
  expect(r.body.status).toBe(status);
  expect(await g.store.countReadings()).toBe(before);
  return r.body;
}

let A: ReturnType<typeof testKey>, B: ReturnType<typeof testKey>;
let chainA: ReturnType<typeof makeChain>;
let batchA: ReturnType<typeof makeChain>;
let chainB: ReturnType<typeof makeChain>;
const pathOf = (id: bigint, batch = false) => `/v1/devices/${id}/readings${batch ? "/batch" : ""}`;

beforeAll(async () => {
  backend = await buildJsBackend();
  gw = await createGateway({
    dbPath: ":memory:",
    backend,
    verifyWorkers: 0,
    maxClockSkewMs: null,
    rateLimit: false,
    maxBatch: 8,
    maxBodyBytes: 16 * 1024,
  });
  A = testKey(backend, 1);
  B = testKey(backend, 2);
  chainA = makeChain(backend, A, 3);
  batchA = makeChain(backend, A, 4, { state: chainA.state, signMode: "last", ts0: 1_700_000_100_000 });
  chainB = makeChain(backend, B, 1);
});

describe("registration", () => {
  it("registers a device from its signature, idempotently", async () => {
    const r = await post(gw, "/v1/devices", registrationBody(backend, A));
    expect(r.status).toBe(201);
    expect(r.body.deviceId).toBe(A.deviceId.toString());
    expect(r.body.head.seq).toBe("0");
    expect((await post(gw, "/v1/devices", registrationBody(backend, A))).status).toBe(200);
    expect((await post(gw, "/v1/devices", registrationBody(backend, B))).status).toBe(201);
  });
  it("refuses another owner (409), another chain (422), a forged signature (401), a bad body (400)", async () => {
    expect(
      (await post(gw, "/v1/devices", registrationBody(backend, A, "0x2222222222222222222222222222222222222222")))
        .status,
    ).toBe(409);
    expect((await post(gw, "/v1/devices", registrationBody(backend, A, DEV_OWNER, 1n))).status).toBe(422);
    const forged = { ...registrationBody(backend, B), publicKey: registrationBody(backend, A).publicKey };
    const C = testKey(backend, 3);
    expect(
      (
        await post(gw, "/v1/devices", {
          ...forged,
          publicKey: { x: C.publicKey.x.toString(), y: C.publicKey.y.toString() },
        })
      ).status,
    ).toBe(401);
    expect((await post(gw, "/v1/devices", { owner: DEV_OWNER })).status).toBe(400);
    expect(await gw.store.getDevice(C.deviceId)).toBeUndefined();
  });
});

describe("one reading at a time", () => {
  it("accepts the chain and answers an exact resend with the original ack", async () => {
    const r1 = await post(gw, pathOf(A.deviceId), chainA.wire[0]);
    expect(r1.status).toBe(201);
    expect(r1.body).toMatchObject({ seq: "1", hash: chainA.readings[0]!.hash.toString() });
    const again = await post(gw, pathOf(A.deviceId), chainA.wire[0]);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(r1.body);
    expect(await gw.store.countReadings(A.deviceId)).toBe(1);
  });
  it("409 for a gap, a wrong prev and a fork, naming the expected seq and hash", async () => {
    const head = { expectedSeq: "2", expectedPrev: chainA.readings[0]!.hash.toString() };
    expect(await rejected(gw, pathOf(A.deviceId), chainA.wire[2], 409)).toMatchObject(head);
    const fork = makeChain(backend, A, 1, { values: () => [99] }); // another seq 1
    expect(await rejected(gw, pathOf(A.deviceId), fork.wire[0], 409)).toMatchObject(head);
    const wrongPrev = makeChain(backend, A, 1, { state: { seq: 1n, lastHash: 12345n } }); // seq 2, prev not h_1
    expect(await rejected(gw, pathOf(A.deviceId), wrongPrev.wire[0], 409)).toMatchObject(head);
  });
  it("401 for a bad signature or one by another device", async () => {
    const r2 = chainA.readings[1]!;
    const byB = { ...chainA.wire[1]!, signature: encodeSignature(backend.sign(B.privateKey, r2.hash)) };
    await rejected(gw, pathOf(A.deviceId), byB, 401);
    const s = chainA.wire[1]!.signature!;
    await rejected(
      gw,
      pathOf(A.deviceId),
      { ...chainA.wire[1], signature: { ...s, S: (BigInt(s.S) + 1n).toString() } },
      401,
    );
    // Same point, non-canonical encoding (x + p): must not verify.
    const p = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;
    await rejected(
      gw,
      pathOf(A.deviceId),
      { ...chainA.wire[1], signature: { ...s, R8x: (BigInt(s.R8x) + p).toString() } },
      422,
    );
  });
  it("422 for out-of-range values, an unsigned single reading, a foreign deviceId, and ts far from the clock", async () => {
    const w = chainA.wire[1]!;
    await rejected(gw, pathOf(A.deviceId), { ...w, values: [(1n << 63n).toString()] }, 422);
    await rejected(gw, pathOf(A.deviceId), { ...w, values: [(-(1n << 63n) - 1n).toString()] }, 422);
    // More than the 4 slots is a shape error, as the schema says (400).
    await rejected(gw, pathOf(A.deviceId), { ...w, values: ["1", "2", "3", "4", "5"] }, 400);
    await rejected(gw, pathOf(A.deviceId), { ...w, prev: (1n << 254n).toString() }, 422);
    await rejected(gw, pathOf(A.deviceId), { ...w, seq: "0" }, 422);
    await rejected(gw, pathOf(A.deviceId), { ...w, ts: (1n << 48n).toString() }, 422);
    await rejected(gw, pathOf(A.deviceId), { ...w, signature: null }, 422);
    await rejected(gw, pathOf(A.deviceId), { ...w, deviceId: B.deviceId.toString() }, 422);
    const clocked = await createGateway({
      store: gw.store,
      backend,
      verifyWorkers: 0,
      rateLimit: false,
      now: () => 1_700_000_000_000 + 3_600_000,
      maxClockSkewMs: 60_000,
    });
    const body = await rejected(clocked, pathOf(A.deviceId), w, 422);
    expect(body.title).toMatch(/from the gateway clock/);
    await clocked.close();
  });
  it("404 for an unknown device, 400 for malformed JSON, a bad schema or a bad path, 415 for a non-JSON body", async () => {
    await rejected(gw, pathOf(12345n), chainA.wire[1], 404);
    await rejected(gw, pathOf(A.deviceId), "{not json", 400);
    await rejected(gw, pathOf(A.deviceId), { ...chainA.wire[1], seq: "one" }, 400);
    await rejected(gw, pathOf(A.deviceId), { ...chainA.wire[1], extra: 1 }, 400);
    await rejected(gw, pathOf(A.deviceId), [chainA.wire[1]], 400);
    await rejected(gw, "/v1/devices/0x12/readings", chainA.wire[1], 400);
    const res = await gw.app.request(pathOf(A.deviceId), {
      method: "POST",
      body: JSON.stringify(chainA.wire[1]),
      headers: { "content-type": "text/plain" },
    });
    expect(res.status).toBe(415);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
  });
  it("413 for a body over the limit", async () => {
    await rejected(gw, pathOf(A.deviceId), { ...chainA.wire[1], pad: "x".repeat(20_000) }, 413);
  });
  it("still accepts the next reading after all that", async () => {
    expect((await post(gw, pathOf(A.deviceId), chainA.wire[1])).status).toBe(201);
    expect((await post(gw, pathOf(A.deviceId), chainA.wire[2])).status).toBe(201);
  });
});

describe("batches", () => {
  const batch = (ws: WireReading[]) => ({ readings: ws });
  it("422 when the last reading is unsigned, 413 over maxBatch, 409 for a break inside", async () => {
    await rejected(gw, pathOf(A.deviceId, true), batch(batchA.wire.slice(0, 3)), 422);
    await rejected(gw, pathOf(A.deviceId, true), batch(Array(9).fill(batchA.wire[3])), 413);
    const broken = [batchA.wire[0]!, batchA.wire[2]!, batchA.wire[3]!];
    expect(await rejected(gw, pathOf(A.deviceId, true), batch(broken), 409)).toMatchObject({ index: 1 });
    await rejected(gw, pathOf(A.deviceId, true), { readings: [] }, 400);
  });
  it("401 if any signature present is bad, even in the middle", async () => {
    const bad = batchA.wire.map((w, i) =>
      i === 1 ? { ...w, signature: encodeSignature(backend.sign(B.privateKey, batchA.readings[1]!.hash)) } : w,
    );
    await rejected(gw, pathOf(A.deviceId, true), batch(bad), 401);
  });
  it("accepts a batch signed only at the end, in one go, and is idempotent on resend", async () => {
    const r = await post(gw, pathOf(A.deviceId, true), batch(batchA.wire));
    expect(r.status).toBe(201);
    expect(r.body.acks.map((x: { seq: string }) => x.seq)).toEqual(["4", "5", "6", "7"]);
    // Wire compatibility: device SDKs from before the IngestAck rename read the acks as `receipts`.
    expect(r.body.receipts).toEqual(r.body.acks);
    const again = await post(gw, pathOf(A.deviceId, true), batch(batchA.wire));
    expect(again.status).toBe(200);
    expect(again.body).toEqual(r.body);
    const stored = await gw.store.listReadings({ deviceId: A.deviceId, fromSeq: 4n });
    expect(stored.map((s) => s.signature === null)).toEqual([true, true, true, false]);
    expect(stored.map((s) => s.hash)).toEqual(batchA.readings.map((x) => x.hash));
  });
  it("accepts a batch that resends an accepted prefix and extends the chain", async () => {
    const more = makeChain(backend, A, 2, { state: batchA.state, signMode: "last", ts0: 1_700_000_200_000 });
    const r = await post(gw, pathOf(A.deviceId, true), batch([...batchA.wire.slice(2), ...more.wire]));
    expect(r.status).toBe(201);
    expect(r.body.acks.map((x: { seq: string }) => x.seq)).toEqual(["6", "7", "8", "9"]);
    expect(await gw.store.countReadings(A.deviceId)).toBe(9);
  });
});

describe("rate limits and operator endpoints", () => {
  it("429 once a device is over its rate, with Retry-After", async () => {
    let t = 1_000_000;
    const g = await createGateway({
      store: gw.store,
      backend,
      verifyWorkers: 0,
      maxClockSkewMs: null,
      rateLimit: { perSecond: 1, burst: 2 },
      now: () => t,
    });
    expect((await post(g, pathOf(A.deviceId), chainA.wire[0])).status).toBe(200);
    expect((await post(g, pathOf(A.deviceId), chainA.wire[0])).status).toBe(200);
    const r = await post(g, pathOf(A.deviceId), chainA.wire[0]);
    expect(r.status).toBe(429);
    expect(Number(r.headers.get("retry-after"))).toBeGreaterThan(0);
    t += 1000;
    expect((await post(g, pathOf(A.deviceId), chainA.wire[0])).status).toBe(200);
    await g.close();
  });
  it("operator endpoints need an API key stored hashed", async () => {
    expect((await gw.app.request("/v1/devices")).status).toBe(401);
    expect((await gw.app.request(`/v1/devices/${A.deviceId}/readings`)).status).toBe(401);
    const key = await gw.store.createApiKey("ops");
    expect(await gw.store.checkApiKey(key + "x")).toBeUndefined();
    const auth = { headers: { authorization: `Bearer ${key}` } };
    const devices = (await (await gw.app.request("/v1/devices", auth)).json()) as { deviceId: string }[];
    expect(devices.map((d) => d.deviceId)).toEqual([A.deviceId.toString(), B.deviceId.toString()]);
    const res = await gw.app.request(
      `/v1/devices/${A.deviceId}/readings?fromSeq=2&toSeq=8&fromTs=1700000001000&toTs=1700000102000`,
      auth,
    );
    const rows = (await res.json()) as { seq: string }[];
    expect(rows.map((r) => r.seq)).toEqual(["2", "3", "4", "5", "6"]);
    expect((await gw.app.request(`/v1/devices/${A.deviceId}/readings?limit=0`, auth)).status).toBe(400);
  });
  it("serves a device's head publicly, health, readiness, OpenAPI and the reference page", async () => {
    const d = (await (await gw.app.request(`/v1/devices/${A.deviceId}`)).json()) as { head: { seq: string } };
    expect(d.head.seq).toBe("9");
    expect((await gw.app.request(`/v1/devices/77`)).status).toBe(404);
    expect((await gw.app.request("/healthz")).status).toBe(200);
    expect((await gw.app.request("/readyz")).status).toBe(200);
    const doc = (await (await gw.app.request("/openapi.json")).json()) as {
      paths: Record<string, unknown>;
      components: { schemas: Record<string, unknown> };
    };
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        "/v1/devices",
        "/v1/devices/{deviceId}/readings",
        "/v1/devices/{deviceId}/readings/batch",
      ]),
    );
    // A gateway's acknowledgement is an ack; "Receipt" is the proof's word.
    expect(Object.keys(doc.components.schemas)).toEqual(expect.arrayContaining(["IngestAck", "BatchIngestAck"]));
    expect(Object.keys(doc.components.schemas).filter((k) => /receipt/i.test(k))).toEqual([]);
    expect(await (await gw.app.request("/reference")).text()).toMatch(/openapi\.json/);
    const nf = await gw.app.request("/nope");
    expect(nf.status).toBe(404);
    expect(nf.headers.get("content-type")).toBe("application/problem+json");
  });
});

describe("the stored chain is what the prover needs", () => {
  it("lists readings with hashes and signatures and the device key", async () => {
    const all = await gw.store.listReadings({ deviceId: A.deviceId });
    for (let i = 1; i < all.length; i++) expect(all[i]!.prev).toBe(all[i - 1]!.hash);
    expect(encodeReading(all[0]!)).toEqual(chainA.wire[0]);
    const dev = await gw.store.getDevice(A.deviceId);
    expect(dev?.publicKey).toEqual(A.publicKey);
    expect((await gw.store.lastReading(A.deviceId))?.seq).toBe(9n);
    expect(chainB.readings).toHaveLength(1);
  });
});
