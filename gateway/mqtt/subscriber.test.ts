import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildJsBackend, readingsTopic, type EddsaBackend } from "../../device-sdk/index.ts";
import { publishRaw } from "./raw-client.ts";
import { createGateway, type Gateway } from "../index.ts";
import { makeChain, registrationBody, testKey } from "../testing.ts";
import { startEmbeddedBroker, type EmbeddedBroker } from "./broker.ts";
import { startMqttIngest, type MqttIngest } from "./subscriber.ts";

let backend: EddsaBackend;
let broker: EmbeddedBroker;
beforeAll(async () => {
  backend = await buildJsBackend();
  broker = await startEmbeddedBroker();
});
afterAll(() => broker.close());

async function gatewayWith(n: number) {
  const gw = await createGateway({
    dbPath: ":memory:",
    backend,
    verifyWorkers: 0,
    maxClockSkewMs: null,
    rateLimit: false,
  });
  const keys = Array.from({ length: n }, (_, i) => testKey(backend, 30 + i));
  for (const k of keys)
    await gw.app.request("/v1/devices", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(registrationBody(backend, k)),
    });
  return { gw, keys, chains: keys.map((k) => makeChain(backend, k, 1)) };
}
const post = (deviceId: bigint, payload: unknown) =>
  publishRaw({
    url: broker.url,
    protocolVersion: 4,
    deviceId,
    payload: typeof payload === "string" ? payload : JSON.stringify(payload),
  });

describe("startMqttIngest", () => {
  let gw: Gateway;
  let sub: MqttIngest | undefined;
  afterAll(async () => {
    await sub?.close();
    await gw?.close();
  });

  it("works on at most maxInFlight messages at once, and more than one", async () => {
    const { gw: g, keys, chains } = await gatewayWith(5);
    gw = g;
    const store = gw.ingestContext.ingest.store;
    const append = store.appendReadings.bind(store);
    const gates: (() => void)[] = [];
    let started = 0;
    let released = 0;
    let most = 0;
    let wake: (() => void) | undefined;
    store.appendReadings = async (...args) => {
      started++;
      most = Math.max(most, started - released);
      wake?.();
      await new Promise<void>((r) => gates.push(r));
      return append(...args);
    };
    sub = await startMqttIngest({
      url: broker.url,
      ctx: gw.ingestContext,
      protocolVersion: 4,
      shareGroup: false,
      maxInFlight: 3,
    });
    const answers = keys.map((k, i) => post(k.deviceId, chains[i]!.wire));
    const until = async (n: number) => {
      while (started < n) await new Promise<void>((r) => (wake = r));
    };
    await until(3);
    expect(sub.inFlight).toBe(3);
    // each released commit lets exactly one waiting message in
    while (released < 5) {
      const open = gates.shift();
      if (!open) {
        await until(released + 1);
        continue;
      }
      released++;
      open();
    }
    expect((await Promise.all(answers)).map((a) => a.status)).toEqual([201, 201, 201, 201, 201]);
    expect(most).toBe(3);
    expect(await gw.store.countReadings()).toBe(5);
    store.appendReadings = append;
  });

  it("refuses a topic over its failure budget with 429 without ingest work; other devices are still served", async () => {
    await sub?.close();
    await gw.close();
    const { gw: g, keys, chains } = await gatewayWith(2);
    gw = g;
    sub = await startMqttIngest({
      url: broker.url,
      ctx: gw.ingestContext,
      protocolVersion: 4,
      shareGroup: false,
      failureBudget: { perSecond: 0.001, burst: 3 },
    });
    const [bad, good] = keys as [(typeof keys)[0], (typeof keys)[0]];
    for (let i = 0; i < 4; i++) expect((await post(bad.deviceId, "{nope")).status).toBe(400);
    // budget spent: even a valid message on that topic is refused unread
    const r = await post(bad.deviceId, chains[0]!.wire);
    expect(r.status).toBe(429);
    expect(r.body.type).toBe("https://machinefi.dev/problems/rate-limited");
    expect(await gw.store.countReadings()).toBe(0);
    expect((await post(good.deviceId, chains[1]!.wire)).status).toBe(201);
    expect(readingsTopic(good.deviceId)).not.toBe(readingsTopic(bad.deviceId));
  });

  it("resubscribes after the broker restarts, and ingests again", async () => {
    const { gw: g, keys, chains } = await gatewayWith(1);
    await sub?.close();
    await gw.close();
    gw = g;
    const own = await startEmbeddedBroker();
    const restarted: EmbeddedBroker[] = [];
    try {
      sub = await startMqttIngest({ url: own.url, ctx: gw.ingestContext, protocolVersion: 4, shareGroup: false });
      const reconnected = new Promise<void>((r) => sub!.client.once("connect", () => r()));
      await own.close();
      restarted.push(await startEmbeddedBroker({ port: own.port }));
      await reconnected;
      // the subscription is renewed right after the reconnect: retry the first publish until it is answered
      let r;
      for (let i = 0; i < 50 && !r; i++)
        r = await publishRaw({
          url: own.url,
          protocolVersion: 4,
          deviceId: keys[0]!.deviceId,
          payload: JSON.stringify(chains[0]!.wire),
          timeoutMs: 500,
        }).catch(() => undefined);
      expect(r?.status).toBe(201);
      expect(await gw.store.countReadings()).toBe(1);
    } finally {
      await sub?.close();
      sub = undefined;
      for (const b of restarted) await b.close();
    }
  });

  it("answers a large group commit without a 'drain' listener per answer", async () => {
    // The answers of one group leave corked in one turn; past the socket's high-water mark mqtt.js registered a
    // once('drain') for every publish that had a callback (0.45 per reading in the MQTT bench), only to call a no-op.
    const n = 40;
    const { gw: g, keys, chains } = await gatewayWith(n);
    await sub?.close();
    await gw?.close();
    gw = g;
    const store = gw.ingestContext.ingest.store;
    const append = store.appendReadings.bind(store);
    // Hold every append until all n wait, so they commit as one group and are answered in one turn.
    let waiting = 0;
    let go!: () => void;
    const all = new Promise<void>((r) => (go = r));
    store.appendReadings = async (...args) => (++waiting === n && go(), await all, append(...args));
    sub = await startMqttIngest({ url: broker.url, ctx: gw.ingestContext, protocolVersion: 4, shareGroup: false });
    const stream = sub.client.stream;
    const once = stream.once.bind(stream);
    let drains = 0;
    stream.once = ((event: string, fn: (...a: unknown[]) => void) => {
      if (event === "drain") drains++;
      return once(event, fn);
    }) as typeof stream.once;
    try {
      const answers = await Promise.all(keys.map((k, i) => post(k.deviceId, chains[i]!.wire)));
      expect(answers.map((a) => a.status)).toEqual(keys.map(() => 201));
      expect(drains).toBe(0);
    } finally {
      stream.once = once;
      store.appendReadings = append;
    }
  });

  it("close() lets messages in flight finish and answers them", async () => {
    const { gw: g, keys, chains } = await gatewayWith(1);
    await sub?.close();
    await gw.close();
    gw = g;
    const store = gw.ingestContext.ingest.store;
    const append = store.appendReadings.bind(store);
    let entered!: () => void;
    const inside = new Promise<void>((r) => (entered = r));
    let go!: () => void;
    const gate = new Promise<void>((r) => (go = r));
    store.appendReadings = async (...args) => (entered(), await gate, append(...args));
    sub = await startMqttIngest({ url: broker.url, ctx: gw.ingestContext, protocolVersion: 4, shareGroup: false });
    const answer = post(keys[0]!.deviceId, chains[0]!.wire);
    await inside;
    const closed = sub.close();
    go();
    await closed;
    expect((await answer).status).toBe(201);
    expect(await gw.store.countReadings()).toBe(1);
    sub = undefined;
  });
});
