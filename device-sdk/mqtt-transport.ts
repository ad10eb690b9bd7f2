/**
 * Readings over MQTT (the `mqtt` package: Node, and browsers over ws://). A publish is one attempt of the client's
 * retry loop: it resolves only with the gateway's answer on the response topic, which the gateway sends after the
 * reading is durable. The broker's PUBACK says nothing about storage, so a publish without an answer within the
 * timeout rejects and the client republishes (with fresh correlation); a reading that was stored meanwhile is
 * answered with its original ack, as over HTTP.
 *
 * MQTT 5 (default): publish on …/readings with responseTopic …/acks/{session} and correlationData.
 * MQTT 3.1.1 (protocolVersion 4, for brokers such as aedes 1.x): the correlation is a topic level,
 * …/readings/{corr} is answered on …/acks/{corr}. `mqtt` is imported on first use, so the SDK core stays light.
 */
import type { IClientOptions, IPublishPacket, MqttClient } from "mqtt";
import type { ReadingsTransport, TransportReply } from "./client.ts";
import { SdkError } from "./errors.ts";
import { ackTopic, readingsTopic } from "./mqtt-topics.ts";
import type { WireReading } from "./wire.ts";

export interface MqttTransportOptions {
  /** Broker URL: mqtt://host:1883, ws://host:8080/mqtt, … */
  url: string;
  protocolVersion?: 4 | 5;
  clientId?: string;
  /** Extra mqtt.js options (credentials, TLS). */
  mqtt?: IClientOptions;
}

export interface MqttTransport extends ReadingsTransport {
  close(): Promise<void>;
}

type Pending = { resolve: (r: TransportReply) => void; timer: ReturnType<typeof setTimeout> };

const randomHex = (bytes: number) =>
  Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16).padStart(2, "0")).join("");

/** The gateway's answer → status: the MQTT 5 user property, else the problem's own status, else an ack (201). */
function replyOf(payload: Uint8Array, packet: IPublishPacket): TransportReply {
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(new TextDecoder().decode(payload)) as Record<string, unknown>;
  } catch {
    body = { title: "the gateway's answer is not JSON" };
  }
  const props = packet.properties?.userProperties as Record<string, string | string[]> | undefined;
  const one = (k: string) => (Array.isArray(props?.[k]) ? props![k]![0] : (props?.[k] as string | undefined));
  const status = Number(
    one("status") ??
      (typeof body.status === "number" ? body.status : Array.isArray(body.acks ?? body.receipts) ? 201 : 502),
  ); // `receipts`: gateways before the rename
  const retryAfter = Number(one("retry-after"));
  return { status, body, ...(retryAfter > 0 ? { retryAfterMs: retryAfter * 1000 } : {}) };
}

export function mqttTransport(opts: MqttTransportOptions): MqttTransport {
  const v5 = (opts.protocolVersion ?? 5) === 5;
  const session = randomHex(8);
  const pending = new Map<string, Pending>();
  let counter = 0;
  let connecting: Promise<MqttClient> | undefined;
  const subscribed = new Map<string, Promise<unknown>>();

  function connect(): Promise<MqttClient> {
    connecting ??= (async () => {
      const { connectAsync } = await import("mqtt");
      const client = await connectAsync(opts.url, {
        protocolVersion: v5 ? 5 : 4,
        clientId: opts.clientId ?? `mfi-device-${session}`,
        clean: true,
        reconnectPeriod: 1000,
        // A publish made while disconnected is sent on reconnect; our own timeout decides when to give up.
        queueQoSZero: false,
        ...opts.mqtt,
      });
      // Small messages waiting on an answer: no Nagle delay where the stream is a TCP socket (Node; not in browsers).
      const noDelay = () => (client.stream as { setNoDelay?: (on: boolean) => void } | undefined)?.setNoDelay?.(true);
      noDelay();
      client.on("connect", noDelay);
      client.on("message", (topic, payload, packet) => {
        const corr = v5
          ? packet.properties?.correlationData?.toString("utf8")
          : topic.slice(topic.lastIndexOf("/") + 1);
        const p = corr === undefined ? undefined : pending.get(corr);
        if (!p) return; // a late answer to an attempt we gave up on: the retry's answer will say the same
        pending.delete(corr!);
        clearTimeout(p.timer);
        p.resolve(replyOf(payload, packet));
      });
      return client;
    })().catch((e) => {
      connecting = undefined;
      throw e;
    });
    return connecting;
  }

  /** Subscribe once per device to its answers (retried after a failure). */
  function listen(client: MqttClient, deviceId: string): Promise<unknown> {
    const filter = v5 ? ackTopic(deviceId, session) : ackTopic(deviceId, "+");
    let s = subscribed.get(filter);
    if (!s) {
      s = client.subscribeAsync(filter, { qos: 1 }).catch((e) => {
        subscribed.delete(filter);
        throw e;
      });
      subscribed.set(filter, s);
    }
    return s;
  }

  return {
    async sendReadings(deviceId: string, readings: readonly WireReading[], timeoutMs: number): Promise<TransportReply> {
      const client = await connect();
      await listen(client, deviceId);
      const corr = `${session}-${++counter}`;
      const answer = new Promise<TransportReply>((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(corr);
          reject(
            new SdkError(`no answer from a gateway within ${timeoutMs} ms`, {
              details: "the broker took the message, but no gateway confirmed storing it; the client republishes",
            }),
          );
        }, timeoutMs);
        pending.set(corr, { resolve, timer });
      });
      const payload = JSON.stringify(readings);
      const publish = v5
        ? client.publishAsync(readingsTopic(deviceId), payload, {
            qos: 1,
            properties: {
              responseTopic: ackTopic(deviceId, session),
              // Bytes without Node's Buffer (the SDK runs in browsers); mqtt-packet writes any Uint8Array.
              correlationData: new TextEncoder().encode(corr) as Buffer,
              contentType: "application/json",
            },
          })
        : client.publishAsync(readingsTopic(deviceId, corr), payload, { qos: 1 });
      publish.catch(() => undefined); // a failed publish shows up as no answer (timeout), which the client retries
      return answer;
    },
    async close() {
      for (const p of pending.values()) clearTimeout(p.timer);
      pending.clear();
      const c = connecting && (await connecting.catch(() => undefined));
      connecting = undefined;
      subscribed.clear();
      if (c) await c.endAsync(true);
    },
  };
}
