/**
 * MQTT ingest figures beside the HTTP ones (metrics.ts counts requests by route; MQTT has no route): readings
 * stored, resent and refused in the shared `mfi_ingest_readings_total{transport="mqtt"}`,
 * `mfi_ingest_resent_readings_total` and `mfi_ingest_rejections_total{reason,transport="mqtt"}` (what the dashboard splits by transport), messages answered
 * by status and problem type, and the time from delivery to the answer (ack after commit included). Plug `onReply`
 * into startMqttIngest, with the gateway's registry.
 */
import { Counter, Histogram, type Registry } from "prom-client";
import { countIngest, ingestCounters } from "../metrics.ts";
import type { MqttReply } from "./handle.ts";

export function mqttIngestMetrics(
  registry: Registry,
): (reply: MqttReply, info: { ms: number; answered: boolean }) => void {
  ingestCounters(registry); // the shared series from the start, at 0
  const readings = new Counter({
    name: "mfi_ingest_mqtt_readings_total",
    help: 'Readings acknowledged over MQTT (also in mfi_ingest_readings_total{transport="mqtt"})',
    registers: [registry],
  });
  const messages = new Counter({
    name: "mfi_ingest_mqtt_messages_total",
    help: "MQTT readings messages by answer status and problem type",
    labelNames: ["status", "reason"],
    registers: [registry],
  });
  const unanswered = new Counter({
    name: "mfi_ingest_mqtt_unanswered_total",
    help: "Messages with no allowed response topic (processed, nobody told)",
    registers: [registry],
  });
  const latency = new Histogram({
    name: "mfi_ingest_mqtt_duration_seconds",
    help: "MQTT ingest: delivery to answer (verify + durable append)",
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  return (reply, info) => {
    readings.inc(reply.ingested);
    countIngest(registry, "mqtt", { status: reply.status, readings: reply.ingested, reason: reply.error?.type });
    messages.inc({ status: String(reply.status), reason: reply.error?.type ?? "ok" });
    if (!info.answered) unanswered.inc();
    latency.observe(info.ms / 1000);
  };
}
