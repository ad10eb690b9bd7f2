import { afterAll, describe, expect, it } from "vitest";
import { buildJsBackend } from "../../device-sdk/index.ts";
import { startEmbeddedBroker, startGateway, startMqttIngest } from "../../gateway/index.ts";
import { createFleet } from "./fleet.ts";

describe("devnet fleet with an embedded broker", () => {
  const stops: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const s of stops.reverse()) await s();
  });

  it("every second device posts over MQTT; both halves' readings are stored", async () => {
    const backend = await buildJsBackend();
    const gw = await startGateway({
      dbPath: ":memory:",
      backend,
      verifyWorkers: 0,
      maxClockSkewMs: null,
      rateLimit: false,
      operatorAuth: false,
      metrics: false,
    });
    stops.push(() => gw.close());
    const broker = await startEmbeddedBroker();
    stops.push(() => broker.close());
    const ingest = await startMqttIngest({
      url: broker.url,
      ctx: gw.gateway.ingestContext,
      protocolVersion: 4,
      shareGroup: false,
    });
    stops.push(() => ingest.close());
    const fleet = await createFleet({
      url: gw.url,
      backend,
      devices: 4,
      readingsPerSecond: 2,
      batchSize: 2,
      owners: ["0x1111111111111111111111111111111111111111"],
      chainId: 31337n,
      registry: "0x0000000000000000000000000000000000000000",
      mqtt: { url: broker.url, protocolVersion: 4 },
    });
    stops.push(() => fleet.stop());
    expect(fleet.devices.map((d) => d.transport)).toEqual(["http", "mqtt", "http", "mqtt"]);
    fleet.start();
    const stored = async (i: number) => (await gw.gateway.store.lastReading(fleet.devices[i]!.key.deviceId))?.seq ?? 0n;
    // the first tick sends one batch per device at once
    while ((await Promise.all([0, 1, 2, 3].map(stored))).some((s) => s < 2n))
      await new Promise((r) => setTimeout(r, 50));
    await fleet.stop();
    expect(fleet.stats().rejected).toBe(0);
  });
});
