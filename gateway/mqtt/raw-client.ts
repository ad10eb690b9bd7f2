/**
 * A bare MQTT publisher for tests: sends any payload (malformed, oversized, another device's readings) on a device's
 * readings topic and returns the gateway's answer from the response topic, without the SDK's checks in between.
 */
import { connectAsync } from "mqtt";
import { ackTopic, readingsTopic } from "../../device-sdk/index.ts";

export interface Answer {
  status: number;
  body: Record<string, any>;
  contentType: string;
}

export async function publishRaw(opts: {
  url: string;
  protocolVersion: 4 | 5;
  deviceId: bigint;
  payload: string;
  /** MQTT 5 only: override the response topic (default: the device's own acks/{random}) */
  responseTopic?: string;
  /** false: publish and return undefined without waiting */
  expectAnswer?: boolean;
  timeoutMs?: number;
}): Promise<Answer> {
  const v5 = opts.protocolVersion === 5;
  const corr = `t${Math.random().toString(36).slice(2, 10)}`;
  const client = await connectAsync(opts.url, {
    protocolVersion: opts.protocolVersion,
    clean: true,
    reconnectPeriod: 0,
  });
  try {
    const replyTopic = v5 ? (opts.responseTopic ?? ackTopic(opts.deviceId, corr)) : ackTopic(opts.deviceId, corr);
    const answer = new Promise<Answer>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no answer on ${replyTopic} within ${opts.timeoutMs ?? 10_000} ms`)),
        opts.timeoutMs ?? 10_000,
      );
      client.on("message", (_topic, payload, packet) => {
        if (v5 && packet.properties?.correlationData?.toString() !== corr) return;
        clearTimeout(timer);
        const body = JSON.parse(payload.toString()) as Record<string, any>;
        const status = v5
          ? Number(packet.properties?.userProperties?.status)
          : typeof body.status === "number"
            ? body.status
            : 201;
        const contentType = v5
          ? (packet.properties?.contentType ?? "")
          : body.acks
            ? "application/json"
            : "application/problem+json";
        resolve({ status, body, contentType });
      });
    });
    if (opts.expectAnswer !== false) await client.subscribeAsync(replyTopic, { qos: 1 });
    if (v5)
      await client.publishAsync(readingsTopic(opts.deviceId), opts.payload, {
        qos: 1,
        properties: { responseTopic: replyTopic, correlationData: Buffer.from(corr) },
      });
    else await client.publishAsync(readingsTopic(opts.deviceId, corr), opts.payload, { qos: 1 });
    if (opts.expectAnswer === false) {
      answer.catch(() => undefined);
      return undefined as unknown as Answer;
    }
    return await answer;
  } finally {
    await client.endAsync();
  }
}

/** The first message on `filter` within `ms`, or undefined. */
export async function subscribeOnce(opts: { url: string; filter: string; ms: number }): Promise<string | undefined> {
  const client = await connectAsync(opts.url, { protocolVersion: 5, clean: true, reconnectPeriod: 0 });
  try {
    await client.subscribeAsync(opts.filter, { qos: 1 });
    return await new Promise<string | undefined>((resolve) => {
      const timer = setTimeout(() => resolve(undefined), opts.ms);
      client.on("message", (t) => (clearTimeout(timer), resolve(t)));
    });
  } finally {
    await client.endAsync();
  }
}
