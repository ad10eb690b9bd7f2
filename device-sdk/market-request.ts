/**
 * The EIP-712 access request a data buyer signs to read a subscribed stream from a gateway: the one definition
 * shared by the buyer SDK (which signs) and the gateway (which recovers the signer with ethers' verifyTypedData).
 * The domain binds a signature to one chain and one DataMarket, so it cannot be replayed against another market.
 * No ethers import here: the SDK core stays dependency-light and portable; any signer with ethers' signTypedData
 * shape signs it.
 */

export const ACCESS_REQUEST_DOMAIN_NAME = "machinefi DataMarket";
/** "2": the request names its audience (the gateway it is meant for); version 1 requests did not. */
export const ACCESS_REQUEST_DOMAIN_VERSION = "2";

/** toSeq / toTs of 0 mean "no upper bound"; fromSeq 0 on a live request means "from the current head on". */
export const ACCESS_REQUEST_TYPES = {
  AccessRequest: [
    { name: "streamId", type: "uint256" },
    { name: "buyer", type: "address" },
    { name: "deviceId", type: "uint256" },
    { name: "live", type: "bool" },
    { name: "fromSeq", type: "uint64" },
    { name: "toSeq", type: "uint64" },
    { name: "fromTs", type: "uint64" },
    { name: "toTs", type: "uint64" },
    { name: "nonce", type: "uint256" },
    { name: "expiry", type: "uint64" },
    { name: "audience", type: "string" },
  ],
} as const;

export interface AccessRequest {
  streamId: bigint;
  /** The subscribing address; the signature must recover to it. */
  buyer: string;
  deviceId: bigint;
  /** true: the live feed (SSE); false: history. A request signed for one is refused by the other. */
  live: boolean;
  fromSeq: bigint;
  toSeq: bigint;
  /** Reading time range, Unix ms (reading ts). */
  fromTs: bigint;
  toTs: bigint;
  /** Random, single use: the gateway refuses a nonce it has served before (also after a restart). */
  nonce: bigint;
  /** Unix seconds after which the gateway refuses the request (checked on the gateway's clock). */
  expiry: bigint;
  /**
   * The gateway the request is meant for: the host (`name[:port]`, lowercase) of the URL the buyer sends it to, as
   * `audienceOf(url)` gives it. Another gateway refuses it (403 wrong-audience), so a request one gateway saw cannot
   * be spent at another gateway of the same market.
   */
  audience: string;
}

/** JSON form: integers as decimal strings. */
export interface WireAccessRequest {
  streamId: string;
  buyer: string;
  deviceId: string;
  live: boolean;
  fromSeq: string;
  toSeq: string;
  fromTs: string;
  toTs: string;
  nonce: string;
  expiry: string;
  audience: string;
}

export interface AccessDomain {
  name: string;
  version: string;
  chainId: bigint;
  verifyingContract: string;
}

export function accessDomain(chainId: bigint, market: string): AccessDomain {
  return {
    name: ACCESS_REQUEST_DOMAIN_NAME,
    version: ACCESS_REQUEST_DOMAIN_VERSION,
    chainId,
    verifyingContract: market,
  };
}

export function encodeAccessRequest(r: AccessRequest): WireAccessRequest {
  return {
    streamId: r.streamId.toString(),
    buyer: r.buyer,
    deviceId: r.deviceId.toString(),
    live: r.live,
    fromSeq: r.fromSeq.toString(),
    toSeq: r.toSeq.toString(),
    fromTs: r.fromTs.toString(),
    toTs: r.toTs.toString(),
    nonce: r.nonce.toString(),
    expiry: r.expiry.toString(),
    audience: r.audience,
  };
}

export function decodeAccessRequest(w: WireAccessRequest): AccessRequest {
  return {
    streamId: BigInt(w.streamId),
    buyer: w.buyer,
    deviceId: BigInt(w.deviceId),
    live: w.live,
    fromSeq: BigInt(w.fromSeq),
    toSeq: BigInt(w.toSeq),
    fromTs: BigInt(w.fromTs),
    toTs: BigInt(w.toTs),
    nonce: BigInt(w.nonce),
    expiry: BigInt(w.expiry),
    audience: w.audience,
  };
}

/** The audience a request sent to `url` names: its host as the URL parser normalises it (lowercase, default port dropped). */
export function audienceOf(url: string): string {
  return new URL(url).host;
}

/** A 256-bit random nonce from Web Crypto (available on Node ≥ 19, Deno, Bun and browsers). */
export function randomNonce(): bigint {
  const b = new Uint8Array(32);
  globalThis.crypto.getRandomValues(b);
  return b.reduce((acc, x) => (acc << 8n) | BigInt(x), 0n);
}
