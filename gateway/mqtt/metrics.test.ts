import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { badRequest, chainConflict } from "../errors.ts";
import { createMetrics, ingestByTransport } from "../metrics.ts";
import { mqttIngestMetrics } from "./metrics.ts";

describe("mqttIngestMetrics", () => {
  it("counts acknowledged readings, answers by status and reason, and unanswered messages", async () => {
    const registry = new Registry();
    const onReply = mqttIngestMetrics(registry);
    onReply(
      { status: 201, contentType: "application/json", body: {}, headers: {}, ingested: 3 },
      { ms: 4, answered: true },
    );
    const err = badRequest("Malformed JSON in request body");
    onReply(
      { status: 400, contentType: "application/problem+json", body: {}, headers: {}, ingested: 0, error: err },
      { ms: 1, answered: false },
    );
    const text = await registry.metrics();
    expect(text).toMatch(/^mfi_ingest_mqtt_readings_total 3$/m);
    expect(text).toMatch(/^mfi_ingest_mqtt_messages_total\{status="201",reason="ok"\} 1$/m);
    expect(text).toMatch(/^mfi_ingest_mqtt_messages_total\{status="400",reason="bad-request"\} 1$/m);
    expect(text).toMatch(/^mfi_ingest_mqtt_unanswered_total 1$/m);
    expect(text).toMatch(/^mfi_ingest_mqtt_duration_seconds_count 2$/m);
  });

  it("counts into the gateway's ingest counters by transport, beside HTTP's (what the dashboard splits)", async () => {
    const m = createMetrics({ defaults: false });
    const onReply = mqttIngestMetrics(m.registry);
    onReply(
      { status: 201, contentType: "application/json", body: {}, headers: {}, ingested: 3 },
      { ms: 4, answered: true },
    );
    // a republished message (the device did not get the ack in time): answered again, nothing new stored
    onReply(
      { status: 200, contentType: "application/json", body: {}, headers: {}, ingested: 2 },
      { ms: 2, answered: true },
    );
    onReply(
      {
        status: 409,
        contentType: "application/problem+json",
        body: {},
        headers: {},
        ingested: 0,
        error: chainConflict("fork", { seq: 2n, hash: 5n }),
      },
      { ms: 1, answered: true },
    );
    const text = await m.registry.metrics();
    expect(text).toMatch(/^mfi_ingest_readings_total\{transport="mqtt"\} 3$/m);
    expect(text).toMatch(/^mfi_ingest_readings_total\{transport="http"\} 0$/m);
    expect(text).toMatch(/^mfi_ingest_resent_readings_total\{transport="mqtt"\} 2$/m);
    expect(text).toMatch(/^mfi_ingest_rejections_total\{reason="chain-conflict",transport="mqtt"\} 1$/m);
    expect(await ingestByTransport(m.registry)).toEqual({
      http: { readings: 0, resent: 0, rejected: 0 },
      mqtt: { readings: 3, resent: 2, rejected: 1 },
    });
  });
});
