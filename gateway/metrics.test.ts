/** /metrics on a bare gateway (no worker tables): request and rejection counters move; no dashboard is mounted. */
import { afterAll, describe, expect, it } from "vitest";
import { Registry } from "prom-client";
import { createGateway, type Gateway } from "./app.ts";
import { Trap } from "../runtime/index.ts";
import { ingestByTransport, recordCryptoBackend, REJECTION_REASONS, TRANSPORTS, TRAP_KINDS } from "./metrics.ts";

let gw: Gateway;
afterAll(async () => gw?.close());

describe("metrics on a bare gateway", () => {
  it("counts requests and refused ingest by reason, and serves no dashboard without worker tables", async () => {
    gw = await createGateway({ dbPath: ":memory:", verifyWorkers: 0 });
    expect((await gw.app.request("/dashboard")).status).toBe(404);
    const bad = await gw.app.request("/v1/devices/123/readings/batch", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '{"readings": "no"}',
    });
    expect(bad.status).toBe(400);
    await gw.app.request("/healthz");
    const res = await gw.app.request("/metrics");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain/);
    const text = await res.text();
    expect(text).toMatch(/^mfi_ingest_rejections_total\{reason="bad-request",transport="http"\} 1$/m);
    // The other reasons exist from the start, at 0, for both transports; so do the readings per transport.
    for (const transport of TRANSPORTS) {
      expect(text).toMatch(new RegExp(`^mfi_ingest_readings_total\\{transport="${transport}"\\} 0$`, "m"));
      expect(text).toMatch(new RegExp(`^mfi_ingest_resent_readings_total\\{transport="${transport}"\\} 0$`, "m"));
      for (const reason of REJECTION_REASONS.filter((r) => transport === "mqtt" || r !== "bad-request"))
        expect(text).toMatch(
          new RegExp(`^mfi_ingest_rejections_total\\{reason="${reason}",transport="${transport}"\\} 0$`, "m"),
        );
    }
    expect(await ingestByTransport(gw.metrics!.registry)).toEqual({
      http: { readings: 0, resent: 0, rejected: 1 },
      mqtt: { readings: 0, resent: 0, rejected: 0 },
    });
    expect(text).toMatch(/^mfi_http_requests_total\{method="GET",route="\/healthz",status="200"\} 1$/m);
    expect(text).toMatch(/^mfi_http_requests_total\{method="GET",route="[^"]*",status="404"\} 1$/m);
    expect(text).not.toMatch(/mfi_worker_/);
    expect(text).toMatch(/^mfi_process_cpu_user_seconds_total /m);
  });

  it("lists runtime's trap kinds, so every trap series starts at 0", () => {
    expect([...TRAP_KINDS].sort()).toEqual(Object.values(Trap).sort());
  });

  it("is off with metrics: false", async () => {
    const bare = await createGateway({ dbPath: ":memory:", verifyWorkers: 0, metrics: false });
    try {
      expect((await bare.app.request("/metrics")).status).toBe(404);
    } finally {
      await bare.close();
    }
  });
});

describe("mfi_crypto_backend", () => {
  it("names the backend verifying signatures, and says when it is the slow fallback", async () => {
    const g = await createGateway({ dbPath: ":memory:", verifyWorkers: 0 });
    try {
      const text = await (await g.app.request("/metrics")).text();
      expect(text).toMatch(new RegExp(`mfi_crypto_backend\\{backend="${g.backend.name}",fallback="false"\\} 1`));
      expect(g.backend.name).not.toBe("circomlibjs"); // a built tree verifies on the Wasm backend
    } finally {
      await g.close();
    }
    const registry = new Registry();
    recordCryptoBackend(registry, { name: "circomlibjs", fallback: true });
    expect(await registry.metrics()).toMatch(/mfi_crypto_backend\{backend="circomlibjs",fallback="true"\} 1/);
  });
});
