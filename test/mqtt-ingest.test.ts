/**
 * One behaviour suite, three ways in: HTTP (the batch route), MQTT 3.1.1 through aedes in-process, and MQTT 5
 * through Debian's mosquitto (skipped, with the reason, when it is not installed). Each case checks the answer the
 * device gets (ack or problem, on the response topic for MQTT) and that a refusal left the store unchanged.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ackTopic,
  buildJsBackend,
  createDeviceClient,
  memoryStorage,
  mqttTransport,
  readingsTopic,
  type EddsaBackend,
} from "../device-sdk/index.ts";
import { createGateway, type Gateway } from "../gateway/index.ts";
import { startMqttIngest, type MqttIngest } from "../gateway/mqtt/subscriber.ts";
import { makeChain, registrationBody, testKey } from "../gateway/testing.ts";
import { mosquittoSkipReason, startAedes, startMosquitto, type TestBroker } from "../gateway/testing.ts";
import { publishRaw, type Answer } from "../gateway/testing.ts";

const MAX_BODY = 8 * 1024;
let backend: EddsaBackend;
beforeAll(async () => {
  backend = await buildJsBackend();
});

interface Way {
  name: string;
  skip?: string;
  /** start what this way needs; returns how to post a raw payload (the readings array's JSON) for a device */
  setup(
    gw: Gateway,
  ): Promise<{ post(deviceId: bigint, payload: string): Promise<Answer>; broker?: TestBroker; close(): Promise<void> }>;
}

const http: Way = {
  name: "HTTP",
  async setup(gw) {
    return {
      async post(deviceId, payload) {
        const res = await gw.app.request(`/v1/devices/${deviceId}/readings/batch`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: `{"readings":${payload}}`,
        });
        return {
          status: res.status,
          body: (await res.json()) as Record<string, any>,
          contentType: res.headers.get("content-type") ?? "",
        };
      },
      close: async () => undefined,
    };
  },
};

function mqttWay(name: string, start: () => Promise<TestBroker>, skip?: string): Way {
  return {
    name,
    skip,
    async setup(gw) {
      const broker = await start();
      const sub: MqttIngest = await startMqttIngest({
        url: broker.url,
        ctx: gw.ingestContext,
        protocolVersion: broker.protocolVersion,
        shareGroup: broker.shared ? "gateways" : false,
      });
      return {
        broker,
        post: (deviceId, payload) =>
          publishRaw({ url: broker.url, protocolVersion: broker.protocolVersion, deviceId, payload }),
        async close() {
          await sub.close();
          await broker.close();
        },
      };
    },
  };
}

const ways: Way[] = [
  http,
  mqttWay("MQTT 3.1.1 via aedes", startAedes),
  mqttWay("MQTT 5 via mosquitto", startMosquitto, mosquittoSkipReason),
];

describe.each(ways)("ingest behaviour: $name", (way) => {
  if (way.skip) {
    // The suite's name plus this line say why it did not run.
    it.skip(`skipped: ${way.skip}`, () => undefined);
    return;
  }
  let gw: Gateway;
  let io: Awaited<ReturnType<Way["setup"]>>;
  let A: ReturnType<typeof testKey>, B: ReturnType<typeof testKey>;
  let chainA: ReturnType<typeof makeChain>, chainB: ReturnType<typeof makeChain>;
  const json = (x: unknown) => JSON.stringify(x);

  async function refused(deviceId: bigint, payload: string, status: number) {
    const before = await gw.store.countReadings();
    const r = await io.post(deviceId, payload);
    expect(r.status, JSON.stringify(r.body)).toBe(status);
    expect(r.contentType).toMatch(/^application\/problem\+json/);
    expect(r.body.status).toBe(status);
    expect(await gw.store.countReadings()).toBe(before);
    return r.body;
  }

  beforeAll(async () => {
    gw = await createGateway({
      dbPath: ":memory:",
      backend,
      verifyWorkers: 0,
      maxClockSkewMs: null,
      rateLimit: false,
      maxBodyBytes: MAX_BODY,
    });
    io = await way.setup(gw);
    A = testKey(backend, 1);
    B = testKey(backend, 2);
    for (const k of [A, B])
      await gw.app.request("/v1/devices", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: json(registrationBody(backend, k)),
      });
    chainA = makeChain(backend, A, 2);
    chainB = makeChain(backend, B, 1);
  }, 30_000);
  afterAll(async () => {
    await io?.close();
    await gw?.close();
  });

  it("valid: acked after commit with the acks", async () => {
    const r = await io.post(A.deviceId, json(chainA.wire.slice(0, 1)));
    expect(r.status).toBe(201);
    expect(r.body.acks).toHaveLength(1);
    const stored = (await gw.store.getReading(A.deviceId, 1n))!;
    expect(r.body.acks[0]).toEqual({
      deviceId: A.deviceId.toString(),
      seq: "1",
      hash: stored.hash.toString(),
      receivedAt: stored.receivedAt,
    });
  });

  it("duplicate: the original ack, nothing stored", async () => {
    const first = (await gw.store.getReading(A.deviceId, 1n))!;
    const r = await io.post(A.deviceId, json(chainA.wire.slice(0, 1)));
    // MQTT 3.1.1 has no properties to carry 200 beside the body: an ack reads as accepted, the acks tell.
    expect(r.status).toBe(io.broker?.protocolVersion === 4 ? 201 : 200);
    expect(r.body.acks[0].receivedAt).toBe(first.receivedAt);
    expect(await gw.store.countReadings()).toBe(1);
  });

  it("fork: 409 chain-conflict saying where the chain stands", async () => {
    const fork = makeChain(backend, A, 1, { ts0: 1_800_000_000_000 }).wire;
    expect((await refused(A.deviceId, json(fork), 409)).expectedSeq).toBe("2");
  });

  it("bad signature: 401", async () => {
    await refused(A.deviceId, json([{ ...chainA.wire[1], signature: chainB.wire[0]!.signature }]), 401);
  });

  it("wrong topic: device B's readings on device A's topic, 422", async () => {
    await refused(A.deviceId, json(chainB.wire), 422);
    expect(await gw.store.lastReading(B.deviceId)).toBeUndefined();
  });

  it("oversized: 413", async () => {
    await refused(B.deviceId, json(Array.from({ length: 40 }, () => chainB.wire[0])), 413);
  });

  it("malformed: 400", async () => {
    await refused(B.deviceId, "[{]", 400);
  });

  it.skipIf(way === http)(
    "the device client over the MQTT transport: accepted after commit; a fork is a typed GatewayRejectedError",
    async () => {
      const broker = io.broker!;
      const C = testKey(backend, 3);
      await gw.app.request("/v1/devices", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: json(registrationBody(backend, C)),
      });
      const transport = mqttTransport({ url: broker.url, protocolVersion: broker.protocolVersion });
      const client = createDeviceClient({
        url: "http://unused.invalid",
        key: C,
        backend,
        storage: memoryStorage(),
        transport,
        retry: { attempts: 3, timeoutMs: 2000 },
        sleep: async () => undefined,
      });
      try {
        const ok = await client.send({ ts: 1_700_000_000_000, values: [1, 2] });
        expect(ok.status).toBe("accepted");
        expect((await gw.store.lastReading(C.deviceId))!.seq).toBe(1n);
        // A refusal comes back typed, like over HTTP.
        const fwd = createDeviceClient({
          url: "http://unused.invalid",
          key: C,
          backend,
          transport,
          retry: { attempts: 1, timeoutMs: 2000 },
        });
        await expect(fwd.send({ ts: 1_700_000_000_000, values: [9] })).rejects.toMatchObject({
          name: "GatewayRejectedError",
          status: 409,
        });
        expect(await gw.store.countReadings()).toBeGreaterThan(0);
      } finally {
        await transport.close();
      }
    },
  );

  it.skipIf(way === http)("answers only inside the device's own acks subtree", async () => {
    const { subscribeOnce } = await import("../gateway/testing.ts");
    const broker = io.broker!;
    // A response topic in another device's acks must get no answer (and the message is still ingested).
    if (broker.protocolVersion !== 5) return;
    const heard = subscribeOnce({ url: broker.url, filter: ackTopic(B.deviceId, "#"), ms: 1500 });
    await publishRaw({
      url: broker.url,
      protocolVersion: 5,
      deviceId: A.deviceId,
      payload: json(chainA.wire.slice(0, 1)),
      responseTopic: ackTopic(B.deviceId, "x"),
      expectAnswer: false,
    });
    expect(await heard).toBeUndefined();
    expect(readingsTopic(A.deviceId)).toContain(A.deviceId.toString());
  });
});
