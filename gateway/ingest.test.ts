/**
 * Ingest under hostile traffic (issue 19, findings 1, 2, 5): cheap checks before signature work, the device's budget
 * charged only for verified work, failures charged to the sender's address, HEAD needs the operator key.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { buildJsBackend, encodeSignature, type EddsaBackend, type WireReading } from "../device-sdk/index.ts";
import { createGateway, type Gateway, type GatewayOptions } from "./index.ts";
import { makeChain, registrationBody, testKey } from "./testing.ts";

let backend: EddsaBackend;
beforeAll(async () => {
  backend = await buildJsBackend();
});

/** As @hono/node-server passes it: the socket's peer address (tests choose it). */
const from = (remoteAddress: string) => ({ incoming: { socket: { remoteAddress }, headers: {} } });

async function post(gw: Gateway, path: string, body: unknown, env?: object) {
  const res = await gw.app.request(
    path,
    { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" } },
    env,
  );
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
}
const batchPath = (id: bigint) => `/v1/devices/${id}/readings/batch`;

async function gatewayWith(opts: Partial<GatewayOptions> = {}) {
  const gw = await createGateway({
    dbPath: ":memory:",
    backend,
    verifyWorkers: 0,
    maxClockSkewMs: null,
    rateLimit: false,
    ...opts,
  });
  // Count trips to the verifier (the CPU-heavy part) without changing what it answers.
  let trips = 0;
  const check = gw.verifier.checkReadings;
  gw.verifier.checkReadings = (items) => (trips++, check(items));
  return { gw, trips: () => trips };
}

describe("cheap checks before signature work", () => {
  it("a batch whose first seq is not head+1 gets 409 without reaching the verifier", async () => {
    const { gw, trips } = await gatewayWith();
    const key = testKey(backend, 61);
    expect((await post(gw, "/v1/devices", registrationBody(backend, key))).status).toBe(201);
    const chain = makeChain(backend, key, 6);
    const gap = await post(gw, batchPath(key.deviceId), { readings: chain.wire.slice(1) });
    expect(gap.status).toBe(409);
    expect(gap.body.expectedSeq).toBe("1");
    expect(trips()).toBe(0);

    expect((await post(gw, batchPath(key.deviceId), { readings: chain.wire.slice(0, 3) })).status).toBe(201);
    expect(trips()).toBe(1);
    // A wrong prev on the first new reading, a fork in a resent prefix, a seq gap inside the batch: all 409, no trip.
    const wrongPrev = makeChain(backend, key, 3, {
      state: { seq: 3n, lastHash: 12345n, lastTs: chain.readings[2]!.ts },
    }).wire;
    const forked = makeChain(backend, key, 2, {
      state: { seq: 2n, lastHash: chain.readings[1]!.hash, lastTs: 0n },
      ts0: 1,
    }).wire;
    for (const readings of [wrongPrev, forked, [chain.wire[3]!, chain.wire[5]!]]) {
      const before = await gw.store.countReadings();
      const r = await post(gw, batchPath(key.deviceId), { readings });
      expect(r.status, JSON.stringify(r.body)).toBe(409);
      expect(r.body.expectedSeq).toBe("4");
      expect(await gw.store.countReadings()).toBe(before);
    }
    expect(trips()).toBe(1);
    // An exact resend of the prefix plus the rest still goes through (200 for the prefix part, 201 overall).
    const rest = await post(gw, batchPath(key.deviceId), { readings: chain.wire });
    expect(rest.status).toBe(201);
    expect((rest.body.acks as unknown[]).length).toBe(6);
    await gw.close();
  });
});

describe("a large batch is judged by its first reading before the rest is parsed", () => {
  const postText = async (gw: Gateway, path: string, text: string) => {
    const res = await gw.app.request(path, {
      method: "POST",
      body: text,
      headers: { "content-type": "application/json" },
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  it("a forged batch resending seq 1 gets 409 even though the rest of its 250 KB is not JSON; an honest large batch is stored", async () => {
    const { gw } = await gatewayWith();
    const key = testKey(backend, 62);
    expect((await post(gw, "/v1/devices", registrationBody(backend, key))).status).toBe(201);
    const chain = makeChain(backend, key, 60);
    const honest = JSON.stringify({ readings: chain.wire });
    expect(honest.length).toBeGreaterThan(8192);
    expect((await postText(gw, batchPath(key.deviceId), honest)).status).toBe(201);
    expect(await gw.store.countReadings(key.deviceId)).toBe(60);

    // seq 1 again with other values (a fork), then 250 KB that JSON.parse would reject: the first reading decides
    const fork = makeChain(backend, key, 1, { values: () => [99n] }).wire[0]!;
    const forged = `{"readings":[${JSON.stringify(fork)},` + "x".repeat(250_000);
    const refused = await postText(gw, batchPath(key.deviceId), forged);
    expect(refused.status).toBe(409);
    expect(refused.body.expectedSeq).toBe("61");
    // the same opening with a first reading that could extend the chain: parsed whole, and malformed (400)
    const next = makeChain(backend, key, 1, { state: chain.state }).wire[0]!;
    const malformed = await postText(
      gw,
      batchPath(key.deviceId),
      `{"readings":[${JSON.stringify(next)},` + "x".repeat(9000),
    );
    expect(malformed.status).toBe(400);
    expect(await gw.store.countReadings(key.deviceId)).toBe(60);
    await gw.close();
  });
});

describe("budgets", () => {
  it("junk posts for device B do not spend B's budget: B's valid post afterwards gets 201", async () => {
    const t = 1_700_000_000_000;
    const { gw } = await gatewayWith({ rateLimit: { perSecond: 1, burst: 3 }, failureLimit: false, now: () => t });
    const B = testKey(backend, 62);
    expect((await post(gw, "/v1/devices", registrationBody(backend, B))).status).toBe(201);
    const good = makeChain(backend, B, 1);
    const other = testKey(backend, 63);
    const forgedSig: WireReading = {
      ...good.wire[0]!,
      signature: encodeSignature(backend.sign(other.privateKey, good.readings[0]!.hash)),
    };
    const badValue = { ...good.wire[0]!, values: ["99999999999999999999"] };
    for (let i = 0; i < 10; i++)
      expect((await post(gw, batchPath(B.deviceId), { readings: [i % 2 ? forgedSig : badValue] })).status).toBe(
        i % 2 ? 401 : 422,
      );
    expect((await post(gw, batchPath(B.deviceId), { readings: good.wire })).status).toBe(201);
    // Verified work is charged: resends spend the rest of the burst, then B is told to wait.
    expect((await post(gw, batchPath(B.deviceId), { readings: good.wire })).status).toBe(200);
    expect((await post(gw, batchPath(B.deviceId), { readings: good.wire })).status).toBe(200);
    const limited = await post(gw, batchPath(B.deviceId), { readings: good.wire });
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("1");
    await gw.close();
  });

  it("refused requests are charged to the sender's address: over budget it gets 429 before any work, other addresses are served", async () => {
    const t = 1_700_000_000_000;
    const { gw, trips } = await gatewayWith({ failureLimit: { perSecond: 1, burst: 4 }, now: () => t });
    const key = testKey(backend, 64);
    expect((await post(gw, "/v1/devices", registrationBody(backend, key))).status).toBe(201);
    const good = makeChain(backend, key, 1);
    const other = testKey(backend, 65);
    const forged: WireReading = {
      ...good.wire[0]!,
      signature: encodeSignature(backend.sign(other.privateKey, good.readings[0]!.hash)),
    };
    const attacker = from("203.0.113.7");
    for (let i = 0; i < 4; i++)
      expect((await post(gw, batchPath(key.deviceId), { readings: [forged] }, attacker)).status).toBe(401);
    expect(trips()).toBe(4);
    for (const body of [{ readings: [forged] }, { readings: good.wire }, "not json"]) {
      const r = await post(gw, batchPath(key.deviceId), body, attacker);
      expect(r.status).toBe(429);
      expect(r.body.type).toBe("https://machinefi.dev/problems/too-many-failures");
      expect(Number(r.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
      // The connection closes: the gateway does not read (and discard) the rest of an over-budget client's body.
      expect(r.headers.get("connection")).toBe("close");
    }
    // Registration spam from that address is refused the same way.
    expect((await post(gw, "/v1/devices", registrationBody(backend, other), attacker)).status).toBe(429);
    expect(trips()).toBe(4);
    expect(await gw.store.countReadings()).toBe(0);
    // The device itself, from its own address, is unaffected.
    expect((await post(gw, batchPath(key.deviceId), { readings: good.wire }, from("198.51.100.1"))).status).toBe(201);
    await gw.close();
  });

  it("registrations are limited per address (each costs a signature check and an fsync)", async () => {
    const t = 1_700_000_000_000;
    const { gw } = await gatewayWith({ registrationLimit: { perSecond: 1, burst: 2 }, now: () => t });
    const spammer = from("203.0.113.8");
    expect((await post(gw, "/v1/devices", registrationBody(backend, testKey(backend, 70)), spammer)).status).toBe(201);
    expect((await post(gw, "/v1/devices", registrationBody(backend, testKey(backend, 71)), spammer)).status).toBe(201);
    const r = await post(gw, "/v1/devices", registrationBody(backend, testKey(backend, 72)), spammer);
    expect(r.status).toBe(429);
    expect(await gw.store.getDevice(testKey(backend, 72).deviceId)).toBeUndefined();
    expect(
      (await post(gw, "/v1/devices", registrationBody(backend, testKey(backend, 72)), from("198.51.100.2"))).status,
    ).toBe(201);
    await gw.close();
  });
});

describe("operator endpoints", () => {
  it("HEAD needs the operator key like GET on /v1/devices and /v1/devices/:id/readings", async () => {
    const { gw } = await gatewayWith({ apiKeys: ["sekret"] });
    const key = testKey(backend, 66);
    expect((await post(gw, "/v1/devices", registrationBody(backend, key))).status).toBe(201);
    for (const path of ["/v1/devices", `/v1/devices/${key.deviceId}/readings`]) {
      for (const method of ["GET", "HEAD"]) {
        expect((await gw.app.request(path, { method })).status, `${method} ${path}`).toBe(401);
        expect(
          (await gw.app.request(path, { method, headers: { authorization: "Bearer sekret" } })).status,
          `${method} ${path} with key`,
        ).toBe(200);
      }
    }
    await gw.close();
  });
});
