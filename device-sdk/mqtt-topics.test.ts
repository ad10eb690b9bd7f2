import { describe, expect, it } from "vitest";
import { ackTopic, ingestFilters, parseReadingsTopic, readingsTopic, replyTopicAllowed } from "./mqtt-topics.ts";

describe("MQTT topic layout", () => {
  it("parses a device's readings topic, with and without a correlation level", () => {
    expect(parseReadingsTopic(readingsTopic(42n))).toEqual({ ok: true, deviceId: "42" });
    expect(parseReadingsTopic(readingsTopic("42", "a_B-9"))).toEqual({ ok: true, deviceId: "42", corr: "a_B-9" });
  });

  it.each([
    ["mfi/v1/devices/42/acks", /readings/],
    ["mfi/v1/devices/42", /readings/],
    ["mfi/v2/devices/42/readings", /readings/],
    ["mfi/v1/devices/42/readings/a/b", /readings/],
    ["mfi/v1/devices/042/readings", /deviceId/],
    ["mfi/v1/devices/-1/readings", /deviceId/],
    ["mfi/v1/devices/42/readings/", /correlation/],
    [`mfi/v1/devices/42/readings/${"x".repeat(65)}`, /correlation/],
  ])("refuses %s", (topic, reason) => {
    const r = parseReadingsTopic(topic);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(reason);
  });

  it("allows answers only inside the device's own acks subtree", () => {
    expect(replyTopicAllowed(ackTopic(42n), "42")).toBe(true);
    expect(replyTopicAllowed(ackTopic(42n, "s1/x"), "42")).toBe(true);
    expect(replyTopicAllowed(ackTopic(43n, "s1"), "42")).toBe(false); // another device's answers
    expect(replyTopicAllowed(readingsTopic(42n), "42")).toBe(false); // a loop through the gateway's own subscription
    expect(replyTopicAllowed(`${ackTopic(42n)}/+`, "42")).toBe(false);
    expect(replyTopicAllowed(`${ackTopic(42n)}/#`, "42")).toBe(false);
    expect(replyTopicAllowed(`${ackTopic(42n)}//x`, "42")).toBe(false);
    expect(replyTopicAllowed(`${ackTopic(42n)}/${"x".repeat(300)}`, "42")).toBe(false);
  });

  it("shares the subscription unless told the broker cannot", () => {
    expect(ingestFilters("gateways")).toEqual([
      "$share/gateways/mfi/v1/devices/+/readings",
      "$share/gateways/mfi/v1/devices/+/readings/+",
    ]);
    expect(ingestFilters(false)).toEqual(["mfi/v1/devices/+/readings", "mfi/v1/devices/+/readings/+"]);
  });
});
