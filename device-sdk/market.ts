/**
 * The data buyer's client: sign an access request with the subscribing address's key (any signer with ethers'
 * `signTypedData`, e.g. an ethers Wallet or a browser wallet's JsonRpcSigner), read a subscribed device's history,
 * and follow its live feed (SSE). Every served range is checked with verifyReading by default, so the buyer trusts
 * the device's signatures, not the gateway. Portable: fetch and Web Crypto only.
 */
import type { Reading } from "./chain.ts";
import type { EddsaBackend, PublicKey } from "./eddsa-api.ts";
import { GatewayRejectedError, GatewayUnavailableError, SdkError } from "./errors.ts";
import {
  ACCESS_REQUEST_TYPES,
  accessDomain,
  audienceOf,
  encodeAccessRequest,
  randomNonce,
  type AccessDomain,
  type WireAccessRequest,
} from "./market-request.ts";
import { verifyReading, ReadingVerificationError, type ServedReading } from "./verify-reading.ts";
import { decodeSignature, type WireSignature } from "./wire.ts";

/** What signs access requests: ethers' Signer shape (Wallet, JsonRpcSigner) fits as is. */
export interface TypedDataSigner {
  getAddress(): Promise<string>;
  signTypedData(
    domain: AccessDomain,
    types: Record<string, { name: string; type: string }[]>,
    value: Record<string, unknown>,
  ): Promise<string>;
}

export interface MarketTarget {
  /** Gateway base URL. */
  url: string;
  signer: TypedDataSigner;
  streamId: bigint;
  deviceId: bigint;
  /** EIP-712 domain; when omitted, read from the gateway's GET /v1/market (pass them to not trust it for this). */
  chainId?: bigint;
  market?: string;
  /** Request lifetime in seconds (default 60; gateways accept up to 600). */
  ttlSeconds?: number;
  /** The gateway the request is for (default: the host of `url`; set it when a proxy forwards to a gateway configured with another audience). */
  audience?: string;
  fetch?: typeof fetch;
  now?: () => number;
}

export interface RangeQuery {
  fromSeq?: bigint;
  toSeq?: bigint;
  fromTs?: bigint;
  toTs?: bigint;
}

export interface SignedAccessRequest {
  request: WireAccessRequest;
  signature: string;
}

export type BuyerReading = ServedReading & { hash: bigint; receivedAt: number };

/** A served reading range or feed event did not match what was asked for (beyond verifyReading's checks). */
export class ServedRangeError extends SdkError {
  override name = "ServedRangeError";
}

type WireStored = {
  deviceId: string;
  seq: string;
  ts: string;
  values: string[];
  prev: string;
  hash: string;
  signature: WireSignature | null;
  receivedAt: number;
};
const decodeStored = (w: WireStored): BuyerReading => ({
  deviceId: BigInt(w.deviceId),
  seq: BigInt(w.seq),
  ts: BigInt(w.ts),
  values: w.values.map((v) => BigInt(v)),
  prev: BigInt(w.prev),
  hash: BigInt(w.hash),
  signature: w.signature ? decodeSignature(w.signature) : null,
  receivedAt: w.receivedAt,
});

async function call(o: MarketTarget, path: string, init?: RequestInit): Promise<Response> {
  const f = o.fetch ?? globalThis.fetch.bind(globalThis);
  let res: Response;
  try {
    res = await f(o.url.replace(/\/$/, "") + path, init);
  } catch (err) {
    throw new GatewayUnavailableError(`cannot reach the gateway at ${o.url}`, {
      cause: err,
      metaMessages: ["Check the URL and that the gateway runs (`mfi devnet`)."],
    });
  }
  if (!res.ok) {
    const problem = (await res.json().catch(() => ({ title: res.statusText }))) as { title?: string; detail?: string };
    throw new GatewayRejectedError(res.status, problem);
  }
  return res;
}

async function domainOf(o: MarketTarget): Promise<{ chainId: bigint; market: string }> {
  if (o.chainId !== undefined && o.market) return { chainId: o.chainId, market: o.market };
  const info = (await (await call(o, "/v1/market")).json()) as { chainId: string; market: string };
  return { chainId: o.chainId ?? BigInt(info.chainId), market: o.market ?? info.market };
}

/** Signs a single-use access request for one device of a stream (history, or the live feed with `live`). */
export async function requestAccess(
  o: MarketTarget & RangeQuery & { live?: boolean; nonce?: bigint },
): Promise<SignedAccessRequest> {
  const { chainId, market } = await domainOf(o);
  const nowS = BigInt(Math.floor((o.now ?? Date.now)() / 1000));
  const value = {
    streamId: o.streamId,
    buyer: await o.signer.getAddress(),
    deviceId: o.deviceId,
    live: o.live ?? false,
    fromSeq: o.fromSeq ?? 0n,
    toSeq: o.toSeq ?? 0n,
    fromTs: o.fromTs ?? 0n,
    toTs: o.toTs ?? 0n,
    nonce: o.nonce ?? randomNonce(),
    expiry: nowS + BigInt(o.ttlSeconds ?? 60),
    audience: o.audience ?? audienceOf(o.url),
  };
  const signature = await o.signer.signTypedData(
    accessDomain(chainId, market),
    ACCESS_REQUEST_TYPES as unknown as Record<string, { name: string; type: string }[]>,
    value,
  );
  return { request: encodeAccessRequest(value), signature };
}

export interface HistoryResult {
  deviceId: bigint;
  publicKey: PublicKey;
  /** The readings in the requested range, in seq order. */
  readings: BuyerReading[];
  /** Subscription end (unix seconds, chain time) as the gateway read it. */
  expiresAt: bigint;
  /** Readings whose provenance was checked (in range plus the signed tails); 0 with verify: false. */
  verified: number;
  /** Everything served, in range and tails, one consecutive chain ending in a signed reading: verifyReading input. */
  served: BuyerReading[];
}

function checkRange(o: MarketTarget & RangeQuery, rs: readonly Reading[]): void {
  for (const r of rs) {
    const out =
      r.deviceId !== o.deviceId ||
      (o.fromSeq && r.seq < o.fromSeq) ||
      (o.toSeq && r.seq > o.toSeq) ||
      (o.fromTs && r.ts < o.fromTs) ||
      (o.toTs && r.ts > o.toTs);
    if (out)
      throw new ServedRangeError(
        `the gateway served reading seq ${r.seq} of device ${r.deviceId}, outside the requested range`,
        { metaMessages: ["Do not use this response; report the gateway."] },
      );
  }
}

/**
 * Reads a subscribed device's readings in a seq and/or time range, following the gateway's pages (one fresh signed
 * request each). With verify (default) every page must prove itself with verifyReading under a key that hashes to
 * the requested deviceId; pass the EdDSA backend for that.
 */
export async function readHistory(
  o: MarketTarget & RangeQuery & { backend?: EddsaBackend; verify?: boolean; maxPages?: number },
): Promise<HistoryResult> {
  const verify = o.verify ?? true;
  if (verify && !o.backend)
    throw new SdkError("readHistory needs an EdDSA backend to verify readings", {
      metaMessages: ["Pass backend: await getDefaultBackend(), or verify: false."],
    });
  const target = { ...o, ...(await domainOf(o)) };
  const out: BuyerReading[] = [];
  const served = new Map<bigint, BuyerReading>();
  let verified = 0;
  let fromSeq = o.fromSeq;
  for (let page = 0; page < (o.maxPages ?? 100); page++) {
    const signed = await requestAccess({ ...target, fromSeq });
    const res = await call(o, `/v1/market/streams/${o.streamId}/history`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(signed),
    });
    const body = (await res.json()) as {
      deviceId: string;
      publicKey: { x: string; y: string };
      readings: WireStored[];
      inRange: number;
      next: string | null;
      expiresAt: string;
    };
    const publicKey = { x: BigInt(body.publicKey.x), y: BigInt(body.publicKey.y) };
    const readings = body.readings.map(decodeStored);
    const inRange = readings.slice(0, body.inRange);
    checkRange({ ...o, fromSeq }, inRange);
    if (readings.some((r) => r.deviceId !== o.deviceId))
      throw new ServedRangeError(`the gateway served readings of another device than ${o.deviceId}`);
    if (verify && readings.length) verified += verifyReading(o.backend!, publicKey, readings).verified;
    out.push(...inRange);
    for (const r of readings) served.set(r.seq, r);
    if (body.next === null)
      return {
        deviceId: o.deviceId,
        publicKey,
        readings: out,
        expiresAt: BigInt(body.expiresAt),
        verified,
        served: [...served.values()].sort((a, b) => (a.seq < b.seq ? -1 : 1)),
      };
    fromSeq = BigInt(body.next);
  }
  throw new ServedRangeError(`the range has more than ${o.maxPages ?? 100} pages`, {
    metaMessages: ["Narrow the range or raise maxPages."],
  });
}

export type LiveEvent =
  | { type: "ready"; publicKey: PublicKey; fromSeq: bigint; expiresAt: bigint }
  | { type: "readings"; readings: BuyerReading[]; verified: number }
  | { type: "end"; reason: string; expiresAt: bigint };

/** Parses an SSE byte stream into {event, data} messages (comments and ids are skipped). */
async function* sseMessages(body: ReadableStream<Uint8Array>): AsyncGenerator<{ event: string; data: string }> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buf = "";
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      buf += decoder.decode(value, { stream: true }).replace(/\r\n?/g, "\n");
      let cut: number;
      while ((cut = buf.indexOf("\n\n")) >= 0) {
        const block = buf.slice(0, cut);
        buf = buf.slice(cut + 2);
        let event = "message";
        const data: string[] = [];
        for (const line of block.split("\n")) {
          if (line.startsWith("event:")) event = line.slice(6).trim();
          else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
        }
        if (data.length) yield { event, data: data.join("\n") };
      }
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
}

/**
 * Follows a subscribed device's live feed until the subscription ends (an `end` event) or `signal` aborts. Each
 * `readings` event is verified (verifyReading) and must continue the previous one (seq and prev hash).
 */
export async function* subscribeLive(
  o: MarketTarget & { fromSeq?: bigint; backend?: EddsaBackend; verify?: boolean; signal?: AbortSignal },
): AsyncGenerator<LiveEvent> {
  const verify = o.verify ?? true;
  if (verify && !o.backend)
    throw new SdkError("subscribeLive needs an EdDSA backend to verify readings", {
      metaMessages: ["Pass backend: await getDefaultBackend(), or verify: false."],
    });
  const signed = await requestAccess({ ...o, live: true, fromSeq: o.fromSeq });
  const res = await call(o, `/v1/market/streams/${o.streamId}/live`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "text/event-stream" },
    body: JSON.stringify(signed),
    signal: o.signal,
  });
  if (!res.body) throw new GatewayUnavailableError("the gateway sent no live feed body");
  let publicKey: PublicKey | undefined;
  let last: { seq: bigint; hash: bigint } | undefined;
  try {
    for await (const m of sseMessages(res.body)) {
      const d = JSON.parse(m.data) as Record<string, any>;
      if (m.event === "ready") {
        publicKey = { x: BigInt(d.publicKey.x), y: BigInt(d.publicKey.y) };
        yield { type: "ready", publicKey, fromSeq: BigInt(d.fromSeq), expiresAt: BigInt(d.expiresAt) };
      } else if (m.event === "readings") {
        const readings = (d.readings as WireStored[]).map(decodeStored);
        checkRange(o, readings);
        if (last && (readings[0]!.seq !== last.seq + 1n || readings[0]!.prev !== last.hash))
          throw new ReadingVerificationError(
            "BrokenChain",
            0,
            `live event starting at seq ${readings[0]!.seq} does not continue seq ${last.seq}`,
          );
        const v = verify ? verifyReading(o.backend!, publicKey!, readings) : undefined;
        last = { seq: readings[readings.length - 1]!.seq, hash: v?.lastHash ?? readings[readings.length - 1]!.hash };
        yield { type: "readings", readings, verified: v?.verified ?? 0 };
      } else if (m.event === "end") {
        yield { type: "end", reason: String(d.reason), expiresAt: BigInt(d.expiresAt) };
        return;
      }
    }
  } catch (err) {
    if (o.signal?.aborted) return;
    throw err;
  }
}
