import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  buildJsBackend,
  encodeSignature,
  readingsTopic,
  type EddsaBackend,
  type WireReading,
} from "../../device-sdk/index.ts";
import { createGateway, type Gateway } from "../index.ts";
import { makeChain, registrationBody, testKey } from "../testing.ts";
import { handleReadingsMessage } from "./handle.ts";

let backend: EddsaBackend;
let gw: Gateway;
let A: ReturnType<typeof testKey>, B: ReturnType<typeof testKey>;
let chainA: ReturnType<typeof makeChain>, chainB: ReturnType<typeof makeChain>;
const bytes = (x: unknown) => new TextEncoder().encode(typeof x === "string" ? x : JSON.stringify(x));
const send = (topic: string, payload: unknown) => handleReadingsMessage(gw.ingestContext, topic, bytes(payload));

/** A message that must be refused: a problem with `status`, and the store exactly as it was. */
async function refused(topic: string, payload: unknown, status: number) {
  const before = await gw.store.countReadings();
  const r = await send(topic, payload);
  expect(r.status, JSON.stringify(r.body)).toBe(status);
  expect(r.contentType).toBe("application/problem+json");
  expect(r.body.status).toBe(status);
  expect(r.body.instance).toBe(topic);
  expect(r.ingested).toBe(0);
  expect(await gw.store.countReadings()).toBe(before);
  return r.body;
}

async function httpBatch(id: bigint, readings: WireReading[]) {
  const res = await gw.app.request(`/v1/devices/${id}/readings/batch`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ readings }),
  });
  return (await res.json()) as Record<string, unknown>;
}

beforeAll(async () => {
  backend = await buildJsBackend();
  gw = await createGateway({
    dbPath: ":memory:",
    backend,
    verifyWorkers: 0,
    maxClockSkewMs: null,
    rateLimit: { perSecond: 0.001, burst: 12 },
    maxBatch: 8,
    maxBodyBytes: 4096,
  });
  A = testKey(backend, 1);
  B = testKey(backend, 2);
  for (const k of [A, B])
    expect(
      (
        await gw.app.request("/v1/devices", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(registrationBody(backend, k)),
        })
      ).status,
    ).toBe(201);
  chainA = makeChain(backend, A, 3);
  chainB = makeChain(backend, B, 1);
});
afterAll(() => gw.close());

describe("handleReadingsMessage: the HTTP batch rules over MQTT", () => {
  it("stores a valid message and acks with the batch route's body, after the append", async () => {
    const r = await send(readingsTopic(A.deviceId), chainA.wire.slice(0, 2));
    expect(r.status).toBe(201);
    expect(r.contentType).toBe("application/json");
    const acks = r.body.acks as { seq: string; hash: string }[];
    expect(acks.map((x) => x.seq)).toEqual(["1", "2"]);
    expect(r.body.receipts).toEqual(acks); // as over HTTP: what device SDKs from before the rename read
    expect(acks[1]!.hash).toBe(
      chainA.wire[1]!.signature && (await gw.store.getReading(A.deviceId, 2n))!.hash.toString(),
    );
    expect(await gw.store.countReadings()).toBe(2);
  });

  it("answers an exact duplicate with the original acks (200) and stores nothing", async () => {
    const first = (await gw.store.getReading(A.deviceId, 2n))!;
    const r = await send(readingsTopic(A.deviceId, "c1"), chainA.wire.slice(1, 2));
    expect(r.status).toBe(200);
    expect(r.body.acks).toEqual([
      { deviceId: A.deviceId.toString(), seq: "2", hash: first.hash.toString(), receivedAt: first.receivedAt },
    ]);
    expect(await gw.store.countReadings()).toBe(2);
  });

  it("refuses a fork (409) with the same problem as HTTP", async () => {
    const fork = makeChain(backend, A, 2, { ts0: 1_800_000_000_000 }).wire;
    const p = await refused(readingsTopic(A.deviceId), fork, 409);
    expect(p.expectedSeq).toBe("3");
    const { instance: _m, ...mqtt } = p;
    const { instance: _h, ...http } = await httpBatch(A.deviceId, fork);
    expect(mqtt).toEqual(http);
  });

  it("refuses a bad signature (401) with the same problem as HTTP", async () => {
    const forged = { ...chainA.wire[2]!, signature: chainB.wire[0]!.signature };
    const p = await refused(readingsTopic(A.deviceId), [forged], 401);
    const { instance: _m, ...mqtt } = p;
    const { instance: _h, ...http } = await httpBatch(A.deviceId, [forged]);
    expect(mqtt).toEqual(http);
  });

  it("refuses device B's readings on device A's topic, with or without B's deviceId in them", async () => {
    await refused(readingsTopic(A.deviceId), chainB.wire, 422);
    // Without a deviceId it is hashed as A's: its prev is B's genesis, not A's head (409)…
    const { deviceId: _d, ...anonymous } = chainB.wire[0]!;
    await refused(readingsTopic(A.deviceId), [anonymous], 409);
    // …and B's key signing A's next position is not A's signature (401).
    const signedByB = {
      ...chainA.wire[2]!,
      signature: encodeSignature(backend.sign(B.privateKey, chainA.readings[2]!.hash)),
    };
    await refused(readingsTopic(A.deviceId), [signedByB], 401);
    expect(await gw.store.lastReading(B.deviceId)).toBeUndefined();
  });

  it("refuses a topic that is not a device's readings topic (400)", async () => {
    expect((await refused("mfi/v1/devices/abc/readings", chainB.wire, 400)).title).toMatch(/deviceId/);
    expect((await refused("mfi/v1/devices/1/other", chainB.wire, 400)).title).toMatch(/readings/);
    expect((await refused(`${readingsTopic(B.deviceId)}/bad+corr`, chainB.wire, 400)).title).toMatch(/correlation/);
  });

  it("refuses an oversized payload (413) before parsing it", async () => {
    const p = await refused(readingsTopic(B.deviceId), "x".repeat(4097), 413);
    expect(p.title).toBe("the body is over 4096 bytes");
  });

  it("refuses malformed JSON, a non-array, an empty array and a schema violation (400)", async () => {
    expect((await refused(readingsTopic(B.deviceId), "[{", 400)).title).toBe("Malformed JSON in request body");
    await refused(readingsTopic(B.deviceId), chainB.wire[0], 400);
    await refused(readingsTopic(B.deviceId), [], 400);
    const p = await refused(readingsTopic(B.deviceId), [{ ...chainB.wire[0], seq: "x1" }], 400);
    expect(p.issues).toEqual([expect.objectContaining({ path: "0.seq" })]);
  });

  it("refuses a batch over maxBatch (413) and an unregistered device (404)", async () => {
    const long = makeChain(backend, B, 9, { signMode: "last" }).wire;
    await refused(readingsTopic(B.deviceId), long, 413);
    await refused(readingsTopic(testKey(backend, 9).deviceId), chainB.wire, 404);
  });

  it("charges the HTTP per-device budget for verified work only: junk does not spend it; over it, 429 with retry-after", async () => {
    // A stranger's junk for B (another key's signature) is refused without touching B's budget (issue 19, finding 2).
    const forged = [{ ...chainB.wire[0]!, signature: chainA.wire[0]!.signature }];
    for (let i = 0; i < 15; i++) expect((await send(readingsTopic(B.deviceId), forged)).status).toBe(401);
    expect((await send(readingsTopic(B.deviceId), chainB.wire)).status).toBe(201);
    let last;
    for (let i = 0; i < 20 && (last = await send(readingsTopic(B.deviceId), chainB.wire)).status !== 429; i++)
      expect(last.status).toBe(200);
    expect(last!.status).toBe(429);
    expect(Number(last!.headers["retry-after"])).toBeGreaterThan(0);
    expect(await gw.store.countReadings(B.deviceId)).toBe(1);
  });
});
