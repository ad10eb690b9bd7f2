import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildJsBackend, type EddsaBackend } from "../../device-sdk/index.ts";
import { publishRaw } from "./raw-client.ts";
import { ConfigError, parseGatewayEnv } from "../config.ts";
import { serveGateway } from "../server.ts";
import { makeChain, registrationBody, testKey } from "../testing.ts";
import { startEmbeddedBroker, type EmbeddedBroker } from "./broker.ts";

let backend: EddsaBackend;
let broker: EmbeddedBroker;
beforeAll(async () => {
  backend = await buildJsBackend();
  broker = await startEmbeddedBroker();
});
afterAll(() => broker.close());

describe("the operator's gateway with MQTT ingest", () => {
  it("reads MFI_GATEWAY_MQTT_URL and _PROTOCOL, and refuses bad values naming the variable", () => {
    const cfg = parseGatewayEnv({ MFI_GATEWAY_MQTT_URL: "mqtt://broker:1883", MFI_GATEWAY_MQTT_PROTOCOL: "4" });
    expect(cfg.mqttUrl).toBe("mqtt://broker:1883");
    expect(cfg.mqttProtocol).toBe(4);
    expect(() => parseGatewayEnv({ MFI_GATEWAY_MQTT_URL: "http://broker" })).toThrow(ConfigError);
    expect(() => parseGatewayEnv({ MFI_GATEWAY_MQTT_URL: "http://broker" })).toThrow(/MFI_GATEWAY_MQTT_URL/);
    expect(() => parseGatewayEnv({ MFI_GATEWAY_MQTT_PROTOCOL: "3" })).toThrow(/MFI_GATEWAY_MQTT_PROTOCOL/);
  });

  it("serveGateway ingests from the broker and shows it in /metrics", async () => {
    const served = await serveGateway({
      dbPath: join(mkdtempSync(join(tmpdir(), "mfi-serve-mqtt-")), "g.sqlite"),
      logLevel: "silent",
      backend,
      verifyWorkers: 0,
      maxClockSkewMs: null,
      mqttUrl: broker.url,
      mqttProtocol: 4,
    });
    try {
      const key = testKey(backend, 77);
      const reg = await fetch(`${served.running.url}/v1/devices`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(registrationBody(backend, key)),
      });
      expect(reg.status).toBe(201);
      const payload = JSON.stringify(makeChain(backend, key, 1).wire);
      const r = await publishRaw({ url: broker.url, protocolVersion: 4, deviceId: key.deviceId, payload });
      expect(r.status).toBe(201);
      // Published again (no ack in time): answered with the original ack, counted as resent, not stored twice.
      const again = await publishRaw({ url: broker.url, protocolVersion: 4, deviceId: key.deviceId, payload });
      expect(again.body).toEqual(r.body); // (3.1.1 carries no status: the counters below tell 200 from 201)
      expect((await served.running.gateway.store.lastReading(key.deviceId))!.seq).toBe(1n);
      const metrics = await (await fetch(`${served.running.url}/metrics`)).text();
      expect(metrics).toMatch(/^mfi_ingest_mqtt_readings_total 2$/m);
      // In the shared counters too, split by transport (the dashboard's table): the registration was no reading.
      expect(metrics).toMatch(/^mfi_ingest_readings_total\{transport="mqtt"\} 1$/m);
      expect(metrics).toMatch(/^mfi_ingest_resent_readings_total\{transport="mqtt"\} 1$/m);
      expect(metrics).toMatch(/^mfi_ingest_readings_total\{transport="http"\} 0$/m);
    } finally {
      await served.close();
    }
  });

  it("fails to start, and leaves nothing open, when the broker cannot be reached", async () => {
    const dbPath = join(mkdtempSync(join(tmpdir(), "mfi-serve-mqtt-")), "g.sqlite");
    await expect(
      serveGateway({
        dbPath,
        logLevel: "silent",
        backend,
        verifyWorkers: 0,
        mqttUrl: "mqtt://127.0.0.1:1",
        mqttProtocol: 4,
      }),
    ).rejects.toThrow();
  });
});
