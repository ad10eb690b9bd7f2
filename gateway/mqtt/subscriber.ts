/**
 * The gateway as an MQTT client of a real broker (mosquitto, EMQX, aedes…): it subscribes to the readings topics
 * (with MQTT 5, as one member of a shared subscription, so gateways split the load), ingests each message like the
 * HTTP batch route (handle.ts) and answers on the device's response topic after the append committed.
 *
 * Why the answer, not the PUBACK, is the acknowledgement: a PUBACK only tells the device's broker that the broker has
 * the message. mqtt.js processes a connection's packets one at a time and sends our PUBACK when handleMessage calls
 * back, so waiting for the commit there would serialize ingest. Instead handleMessage calls back as soon as the
 * message holds one of `maxInFlight` slots: work runs concurrently up to the cap and, when the cap is reached, the
 * socket stops being read, which pushes back on the broker (and MQTT 5 Receive Maximum tells it the cap up front).
 * A message lost with a crashed gateway is republished by the device, whose queue keeps it until an answer arrives.
 *
 * Floods: the per-device budget is ingest's (the same limiter as HTTP, charged before verify work); refusals are
 * charged to the topic's device level (the publisher's identity as far as the gateway can see it: MQTT does not
 * pass the publisher's client id); over that failure budget a topic's messages are refused with 429 without work.
 */
import type { IClientOptions, IPublishPacket, MqttClient } from "mqtt";
import {
  ackTopic,
  DEFAULT_SHARE_GROUP,
  ingestFilters,
  parseReadingsTopic,
  replyTopicAllowed,
  type ParsedTopic,
} from "../../device-sdk/index.ts";
import { GatewayError } from "../errors.ts";
import { createRateLimiter, type RateLimitOptions } from "../rate-limit.ts";
import { handleReadingsMessage, type MqttIngestContext, type MqttReply } from "./handle.ts";

export interface MqttIngestOptions {
  /** Broker URL: mqtt://host:1883, mqtts://…, ws://… */
  url: string;
  ctx: MqttIngestContext;
  /** 5 (default): response topics, correlation data and shared subscriptions. 4 (3.1.1): correlation in the topic. */
  protocolVersion?: 4 | 5;
  /** Shared-subscription group (default "gateways"); false for brokers without $share (aedes 1.x, MQTT 3.1.1). */
  shareGroup?: string | false;
  clientId?: string;
  /** Messages being ingested at once (default 64). */
  maxInFlight?: number;
  /** Refusals a topic's device level may cause (default 20/s, bursts of 100) before its messages are refused unread. */
  failureBudget?: RateLimitOptions;
  now?: () => number;
  /** Called after each answered message (metrics, logs). */
  onReply?: (reply: MqttReply, info: { topic: string; ms: number; answered: boolean }) => void;
  /** Extra mqtt.js options (credentials, TLS). */
  mqtt?: IClientOptions;
}

export interface MqttIngest {
  client: MqttClient;
  /** Messages being ingested right now. */
  readonly inFlight: number;
  /** Stop taking messages, finish those in flight (their answers go out), disconnect. */
  close(): Promise<void>;
}

/** A reply that must not cost ingest work: the topic's failure budget is spent. */
function overBudget(topic: string, retryAfterMs: number): MqttReply {
  const err = new GatewayError(429, "rate-limited", "this topic's publisher is over its failure budget", {
    details: `retry after ${retryAfterMs} ms; fix the requests that were refused`,
    headers: { "retry-after": String(Math.ceil(retryAfterMs / 1000)) },
  });
  return {
    status: 429,
    contentType: "application/problem+json",
    body: err.toProblem(topic),
    headers: err.headers,
    ingested: 0,
    error: err,
  };
}

export async function startMqttIngest(opts: MqttIngestOptions): Promise<MqttIngest> {
  const { connectAsync } = await import("mqtt");
  const v5 = (opts.protocolVersion ?? 5) === 5;
  const maxInFlight = opts.maxInFlight ?? 64;
  const now = opts.now ?? Date.now;
  const failures = createRateLimiter(opts.failureBudget ?? { perSecond: 20, burst: 100 }, now);
  // key → time its failure budget has refilled enough to be worth reading its messages again
  const blocked = new Map<string, number>();
  const shareGroup = opts.shareGroup === undefined ? (v5 ? DEFAULT_SHARE_GROUP : false) : opts.shareGroup;

  const client = await connectAsync(opts.url, {
    protocolVersion: v5 ? 5 : 4,
    clientId: opts.clientId ?? `mfi-gateway-${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
    clean: true,
    reconnectPeriod: 1000,
    ...(v5
      ? { properties: { receiveMaximum: maxInFlight, maximumPacketSize: 2 * opts.ctx.maxBodyBytes + 65_536 } }
      : {}),
    ...opts.mqtt,
  });

  // Answers are small and latency is the product: no Nagle delay on the broker connection (mqtt.js leaves it on).
  const noDelay = () => (client.stream as { setNoDelay?: (on: boolean) => void } | undefined)?.setNoDelay?.(true);
  noDelay();
  client.on("connect", noDelay);

  // One socket write per event-loop turn, not one per packet: the PUBACKs and answers of a turn (a group commit
  // answers many messages at once) are corked and leave in one writev when the turn ends. A write syscall per packet
  // was the largest cost on the gateway's event loop (~1 writev per reading, gateway/mqtt/bench.ts); the broker
  // reads them in fewer segments too. Latency: at most the rest of the turn.
  let corked = false;
  const corkTurn = () => {
    const stream = client.stream as { cork?: () => void; uncork?: () => void } | undefined;
    if (corked || !stream?.cork || !stream.uncork) return;
    corked = true;
    stream.cork();
    setImmediate(() => {
      corked = false;
      stream.uncork!();
    });
  };

  let inFlight = 0;
  let closing = false;
  const waiting: (() => void)[] = [];
  const idle: (() => void)[] = [];
  const release = () => {
    inFlight--;
    waiting.shift()?.();
    if (inFlight === 0) for (const f of idle.splice(0)) f();
  };

  const budgetKey = (t: ParsedTopic) => (t.ok ? t.deviceId : `invalid:${t.segment.slice(0, 100)}`);

  /** Where to answer: the MQTT 5 response topic, else the 3.1.1 correlation level; undefined if nowhere allowed. */
  function replyTarget(
    packet: IPublishPacket,
    t: ParsedTopic,
  ): { topic: string; correlationData?: Buffer } | undefined {
    if (!t.ok) return undefined;
    const rt = packet.properties?.responseTopic;
    if (rt !== undefined)
      return replyTopicAllowed(rt, t.deviceId)
        ? { topic: rt, correlationData: packet.properties?.correlationData }
        : undefined;
    return t.corr === undefined ? undefined : { topic: ackTopic(t.deviceId, t.corr) };
  }

  async function answer(packet: IPublishPacket): Promise<void> {
    const started = performance.now();
    // Parsed once per message: the budget key, ingest and the reply target all read it.
    const topic = parseReadingsTopic(packet.topic);
    const key = budgetKey(topic);
    const until = blocked.get(key);
    let reply: MqttReply;
    if (until !== undefined && until > now()) reply = overBudget(packet.topic, until - now());
    else {
      if (until !== undefined) blocked.delete(key);
      const payload = typeof packet.payload === "string" ? Buffer.from(packet.payload) : packet.payload;
      reply = await handleReadingsMessage(opts.ctx, packet.topic, payload, topic);
      if (reply.error && reply.status !== 429) {
        const r = failures.take(BigInt(`0x${Buffer.from(key).toString("hex") || "0"}`));
        if (!r.ok) {
          blocked.set(key, now() + r.retryAfterMs);
          if (blocked.size > 100_000) for (const [k, t] of blocked) if (t <= now()) blocked.delete(k);
        }
      }
    }
    const target = replyTarget(packet, topic);
    // While the client disconnects an answer cannot go out (mqtt.js would emit "client disconnecting" as an error for
    // a publish without a callback): it is dropped like a lost QoS 0 answer, and the device republishes.
    if (target && !client.disconnecting) {
      corkTurn();
      // QoS 0 and not awaited: a lost answer costs only a republish, answered from the store, so a PUBACK buys nothing
      // (QoS 1 answers measured 0.31 of the crypto floor against 0.40, gateway/mqtt/bench.ts); and awaiting one would
      // deadlock at the cap, since it arrives on the connection this slot may be holding up. No callback either:
      // with one, mqtt.js adds a 'drain' listener per publish whenever the corked socket is over its high-water mark
      // (every answer after the first ~20 of a group commit), only to call it when the turn's writev drains.
      client.publish(target.topic, JSON.stringify(reply.body), {
        qos: 0,
        ...(v5
          ? {
              properties: {
                contentType: reply.contentType,
                ...(target.correlationData ? { correlationData: target.correlationData } : {}),
                userProperties: { status: String(reply.status), ...reply.headers },
              },
            }
          : {}),
      });
    }
    opts.onReply?.(reply, { topic: packet.topic, ms: performance.now() - started, answered: target !== undefined });
  }

  client.handleMessage = (packet, callback) => {
    const start = () => {
      inFlight++;
      corkTurn();
      callback();
      answer(packet).finally(release);
    };
    // Holding the callback stops mqtt.js reading further packets: bounded work, and backpressure to the broker.
    if (inFlight < maxInFlight) start();
    else waiting.push(start);
  };

  await client.subscribeAsync(ingestFilters(shareGroup), { qos: 1 });

  return {
    client,
    get inFlight() {
      return inFlight;
    },
    async close() {
      if (closing) return;
      closing = true;
      await client.unsubscribeAsync(ingestFilters(shareGroup)).catch(() => undefined);
      if (inFlight > 0) await new Promise<void>((r) => idle.push(r));
      await client.endAsync();
    },
  };
}
