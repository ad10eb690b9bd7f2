import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { badRequest } from "../errors.ts";
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
});
