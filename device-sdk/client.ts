/**
 * The device client: register, send, sendBatch. Every reading is made durable (chain position + offline queue) before
 * it is sent; sending retries with exponential backoff and full jitter; a restart resends the queue, and the gateway
 * answers an exact resend with the original ack, so resending is always safe. Uses only `fetch` (no Node APIs).
 */
import { registrationMessage } from "./chain.ts";
import type { EddsaBackend } from "./eddsa-api.ts";
import { GatewayRejectedError, GatewayUnavailableError, SdkError } from "./errors.ts";
import { addressToBigInt, type DeviceKey } from "./keys.ts";
import { extendChain, initialChainState, type ChainState, type ReadingInput, type SignMode } from "./signer.ts";
import { memoryStorage, type DeviceStorage, type PersistedState } from "./storage.ts";
import { encodePublicKey, encodeReading, encodeSignature, type IngestAck, type WireReading } from "./wire.ts";

export interface RetryOptions {
  /** Attempts per request before the batch is left queued (default 5). */
  attempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Per-attempt timeout (default 10 s). */
  timeoutMs?: number;
}

/** One attempt's answer from the gateway: an HTTP-like status and the JSON body (ack or problem). */
export interface TransportReply {
  status: number;
  body: Record<string, unknown>;
  /** the problem's retry-after, when it gave one */
  retryAfterMs?: number;
}

/**
 * Another way to deliver readings than HTTP POST (e.g. mqttTransport in mqtt-transport.ts). One call is one attempt:
 * it resolves with the gateway's answer, or rejects (unreachable, no answer within timeoutMs) and the client retries.
 * The answer's body is the batch route's: {acks} or a problem.
 */
export interface ReadingsTransport {
  sendReadings(deviceId: string, readings: readonly WireReading[], timeoutMs: number): Promise<TransportReply>;
  close?(): Promise<void>;
}

export interface DeviceClientOptions {
  /** Gateway base URL, e.g. http://127.0.0.1:8787 (registration always uses it; readings too unless `transport`) */
  url: string;
  /** Deliver readings through this transport instead of HTTP POST (same signing, queue and retries). */
  transport?: ReadingsTransport;
  key: DeviceKey;
  backend: EddsaBackend;
  storage?: DeviceStorage;
  signMode?: SignMode;
  retry?: RetryOptions;
  fetch?: typeof fetch;
  now?: () => number;
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export type SendResult =
  { status: "accepted"; acks: IngestAck[] } | { status: "queued"; queued: number; error: SdkError };

export interface RegisterOptions {
  owner: string;
  chainId: bigint | number;
  registry: string;
}

const RETRYABLE = new Set([408, 425, 429, 500, 502, 503, 504]);

export class DeviceClient {
  readonly deviceId: bigint;
  private readonly opts: Required<Omit<DeviceClientOptions, "retry" | "transport">> & {
    retry: Required<RetryOptions>;
    transport?: ReadingsTransport;
  };
  private state: ChainState | undefined;
  private queue: WireReading[][] = [];
  private lock: Promise<unknown> = Promise.resolve();

  constructor(options: DeviceClientOptions) {
    this.deviceId = options.key.deviceId;
    this.opts = {
      storage: memoryStorage(),
      signMode: "every",
      fetch: globalThis.fetch.bind(globalThis),
      now: Date.now,
      random: Math.random,
      sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
      ...options,
      url: options.url.replace(/\/+$/, ""),
      retry: { attempts: 5, baseDelayMs: 100, maxDelayMs: 5000, timeoutMs: 10_000, ...options.retry },
    };
  }

  /** Sign (owner, chainId, registry) with the device key and record the device at the gateway (idempotent). */
  async register(opts: RegisterOptions): Promise<{ deviceId: string; created: boolean }> {
    const { key, backend } = this.opts;
    const msg = registrationMessage(addressToBigInt(opts.owner), BigInt(opts.chainId), addressToBigInt(opts.registry));
    const body = {
      publicKey: encodePublicKey(key.publicKey),
      owner: opts.owner,
      chainId: BigInt(opts.chainId).toString(),
      registry: opts.registry,
      signature: encodeSignature(backend.sign(key.privateKey, msg)),
    };
    const res = await this.request("/v1/devices", body);
    return { deviceId: String(res.body.deviceId), created: res.status === 201 };
  }

  /** Sign and send one reading (queued durably first). */
  send(reading: ReadingInput): Promise<SendResult> {
    return this.sendBatch([reading]);
  }

  /** Sign and send readings as one batch: every one signed, or only the last with signMode "last". */
  sendBatch(readings: readonly ReadingInput[]): Promise<SendResult> {
    if (readings.length === 0) throw new SdkError("sendBatch needs at least one reading");
    return this.exclusive(async () => {
      await this.init();
      const { readings: signed, state } = extendChain({
        ...this.opts,
        key: this.opts.key,
        state: this.state!,
        inputs: readings,
      });
      this.state = state;
      this.queue.push(signed.map(encodeReading));
      await this.persist();
      return this.drain(signed.length);
    });
  }

  /** Resend whatever is queued (e.g. after a restart or once the network is back); returns all their acks. */
  flush(): Promise<SendResult> {
    return this.exclusive(async () => {
      await this.init();
      return this.drain(Infinity);
    });
  }

  /** Batches waiting to be acknowledged. */
  async queued(): Promise<number> {
    await this.init();
    return this.queue.length;
  }

  /** The chain position: last seq used and its hash. */
  async chainState(): Promise<ChainState> {
    await this.init();
    return { ...this.state! };
  }

  /** Drop the oldest queued batch (after a permanent rejection the operator decided to give up on). */
  discardOldest(): Promise<void> {
    return this.exclusive(async () => {
      await this.init();
      this.queue.shift();
      await this.persist();
    });
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn, fn);
    this.lock = run.catch(() => undefined);
    return run;
  }

  private async init(): Promise<void> {
    if (this.state) return;
    const saved = await this.opts.storage.load();
    if (saved && saved.deviceId !== this.deviceId.toString()) {
      throw new SdkError("the device storage belongs to another device", {
        details: `stored ${saved.deviceId}, key is ${this.deviceId}`,
        metaMessages: ["Use one storage location per device key."],
      });
    }
    this.state = saved
      ? {
          seq: BigInt(saved.seq),
          lastHash: BigInt(saved.lastHash),
          ...(saved.lastTs === undefined ? {} : { lastTs: BigInt(saved.lastTs) }),
        }
      : initialChainState(this.deviceId);
    this.queue = saved?.queue ?? [];
  }

  private persist(): Promise<void> {
    const { seq, lastHash, lastTs } = this.state!;
    const s: PersistedState = {
      version: 1,
      deviceId: this.deviceId.toString(),
      seq: seq.toString(),
      lastHash: lastHash.toString(),
      ...(lastTs === undefined ? {} : { lastTs: lastTs.toString() }),
      queue: this.queue,
    };
    return this.opts.storage.save(s);
  }

  /** Send queued batches oldest first; the acks of the last `tail` readings (Infinity: all) are returned. */
  private async drain(tail: number): Promise<SendResult> {
    const acks: IngestAck[] = [];
    while (this.queue.length > 0) {
      const batch = this.queue[0]!;
      const id = this.deviceId.toString();
      const transport = this.opts.transport;
      let res;
      try {
        if (transport)
          res = await this.withRetry("the gateway's readings transport", () =>
            transport.sendReadings(id, batch, this.opts.retry.timeoutMs),
          );
        else
          res =
            batch.length === 1
              ? await this.request(`/v1/devices/${id}/readings`, batch[0])
              : await this.request(`/v1/devices/${id}/readings/batch`, { readings: batch });
      } catch (e) {
        if (e instanceof GatewayUnavailableError) return { status: "queued", queued: this.queue.length, error: e };
        throw e;
      }
      acks.push(
        ...(batch.length === 1 && !transport
          ? [res.body as unknown as IngestAck]
          : ((res.body.acks ?? res.body.receipts) as IngestAck[])),
      ); // `receipts`: gateways before the rename
      this.queue.shift();
      await this.persist();
    }
    return { status: "accepted", acks: tail >= acks.length ? acks : acks.slice(acks.length - tail) };
  }

  private request(path: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
    return this.withRetry(`gateway at ${this.opts.url}`, async () => {
      const res = await this.opts.fetch(this.opts.url + path, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(this.opts.retry.timeoutMs),
      });
      const text = await res.text();
      let parsed: Record<string, unknown> = {};
      try {
        parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
      } catch {
        parsed = { title: text.slice(0, 200) };
      }
      const retryAfter = Number(res.headers.get("retry-after"));
      return { status: res.status, body: parsed, ...(retryAfter > 0 ? { retryAfterMs: retryAfter * 1000 } : {}) };
    });
  }

  /** Attempts with exponential backoff and full jitter; a thrown attempt (network, timeout) is retried too. */
  private async withRetry(
    target: string,
    once: () => Promise<TransportReply>,
  ): Promise<{ status: number; body: Record<string, unknown> }> {
    const { attempts, baseDelayMs, maxDelayMs } = this.opts.retry;
    let last: unknown;
    for (let attempt = 0; attempt < attempts; attempt++) {
      if (attempt > 0) await this.opts.sleep(this.opts.random() * Math.min(maxDelayMs, baseDelayMs * 2 ** attempt));
      let res: TransportReply;
      try {
        res = await once();
      } catch (e) {
        last = e;
        continue;
      }
      if (res.status >= 200 && res.status < 300) return { status: res.status, body: res.body };
      if (!RETRYABLE.has(res.status)) throw new GatewayRejectedError(res.status, res.body);
      last = new GatewayRejectedError(res.status, res.body);
      if (res.retryAfterMs !== undefined && res.retryAfterMs > 0)
        await this.opts.sleep(Math.min(maxDelayMs, res.retryAfterMs));
    }
    throw new GatewayUnavailableError(`${target} unavailable after ${attempts} attempts`, {
      cause: last,
      details: last instanceof Error ? last.message : String(last),
      metaMessages: ["The readings stay queued; call flush() or send again later."],
    });
  }
}

export function createDeviceClient(options: DeviceClientOptions): DeviceClient {
  return new DeviceClient(options);
}
