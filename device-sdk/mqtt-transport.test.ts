import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createGateway,
  startEmbeddedBroker,
  startMqttIngest,
  type EmbeddedBroker,
  type Gateway,
  type MqttIngest,
} from "../gateway/index.ts";
import { registrationBody, testKey } from "../gateway/testing.ts";
import { createDeviceClient } from "./client.ts";
import type { EddsaBackend } from "./eddsa-api.ts";
import { buildJsBackend } from "./eddsa-js.ts";
import { mqttTransport } from "./mqtt-transport.ts";
import { memoryStorage } from "./storage.ts";

let backend: EddsaBackend;
let broker: EmbeddedBroker;
let gw: Gateway;
beforeAll(async () => {
  backend = await buildJsBackend();
  broker = await startEmbeddedBroker();
  gw = await createGateway({ dbPath: ":memory:", backend, verifyWorkers: 0, maxClockSkewMs: null, rateLimit: false });
});
afterAll(async () => {
  await gw.close();
  await broker.close();
});

describe("mqttTransport in the device client", () => {
  it("keeps readings queued while no gateway answers, and delivers them once when one does", async () => {
    const key = testKey(backend, 5);
    await gw.app.request("/v1/devices", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(registrationBody(backend, key)),
    });
    const transport = mqttTransport({ url: broker.url, protocolVersion: 4 });
    const client = createDeviceClient({
      url: "http://unused.invalid",
      key,
      backend,
      storage: memoryStorage(),
      transport,
      retry: { attempts: 2, timeoutMs: 300 },
      sleep: async () => undefined,
    });
    let ingest: MqttIngest | undefined;
    try {
      // The broker takes the publishes (PUBACK) but no gateway is subscribed: no answer, so nothing counts as stored.
      const r = await client.send({ ts: 1_700_000_000_000, values: [1] });
      expect(r.status).toBe("queued");
      expect(r.status === "queued" && r.error.name).toBe("GatewayUnavailableError");
      expect(await client.queued()).toBe(1);
      expect(await gw.store.countReadings()).toBe(0);

      ingest = await startMqttIngest({ url: broker.url, ctx: gw.ingestContext, protocolVersion: 4, shareGroup: false });
      const second = await client.send({ ts: 1_700_000_001_000, values: [2] });
      expect(second.status).toBe("accepted");
      expect(await client.queued()).toBe(0);
      expect((await gw.store.listReadings({ deviceId: key.deviceId, limit: 10 })).map((x) => x.seq)).toEqual([1n, 2n]);
    } finally {
      await ingest?.close();
      await transport.close();
    }
  });

  it("rejects an attempt that the broker cannot take (no broker): the client retries, then queues", async () => {
    const key = testKey(backend, 6);
    const transport = mqttTransport({ url: "mqtt://127.0.0.1:1", protocolVersion: 4, mqtt: { reconnectPeriod: 0 } });
    const client = createDeviceClient({
      url: "http://unused.invalid",
      key,
      backend,
      storage: memoryStorage(),
      transport,
      retry: { attempts: 2, timeoutMs: 300 },
      sleep: async () => undefined,
    });
    try {
      const r = await client.send({ ts: 1_700_000_000_000, values: [1] });
      expect(r.status).toBe("queued");
    } finally {
      await transport.close();
    }
  });
});
