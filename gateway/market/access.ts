/**
 * Authorising a data buyer's access request: who signed it, whether it is still fresh and unspent, whether it names
 * this stream and one of its devices, and whether the buyer's subscription is active on chain time. Each refusal is
 * a GatewayError with a named problem type (docs/market.md lists them).
 */
import { getAddress, verifyTypedData } from "ethers";
import {
  ACCESS_REQUEST_TYPES,
  accessDomain,
  decodeAccessRequest,
  type AccessRequest,
  type WireAccessRequest,
} from "../../device-sdk/index.ts";
import { GatewayError } from "../errors.ts";
import type { MarketChainReader, MarketStream } from "./chain-reader.ts";
import type { NonceStore } from "../../store/index.ts";

export interface MarketDeps {
  reader: MarketChainReader;
  nonces: NonceStore;
  chainId: bigint;
  /** DataMarket address the EIP-712 domain names. */
  market: string;
  now: () => number;
  /** Longest accepted request lifetime in seconds (default 600): bounds how long a spent nonce must be kept. */
  maxTtlSeconds: number;
  /**
   * Audiences accepted besides the host the request was sent to (a public name in front of a proxy that rewrites
   * Host). Gateways sharing one store may share one; gateways with their own stores must not (their nonces differ).
   */
  audiences: readonly string[];
}

export interface Authorised {
  request: AccessRequest;
  stream: MarketStream;
  /** Subscription end, unix seconds (chain time). */
  expiresAt: bigint;
}

const problem = (status: number, type: string, title: string, details: string, extensions?: Record<string, unknown>) =>
  new GatewayError(status, type, title, { details, extensions, docsPath: "docs/market.md" });

/** Recovers the signer; 401 when the signature is unusable or names someone else than `buyer`. */
export function recoverBuyer(
  deps: Pick<MarketDeps, "chainId" | "market">,
  wire: WireAccessRequest,
  signature: string,
): AccessRequest {
  let request: AccessRequest;
  let buyer: string;
  try {
    request = decodeAccessRequest(wire);
    buyer = getAddress(wire.buyer.toLowerCase());
    for (const k of ["fromSeq", "toSeq", "fromTs", "toTs", "expiry"] as const)
      if (request[k] >= 1n << 64n) throw new Error(`${k} does not fit in uint64`);
    for (const k of ["streamId", "deviceId", "nonce"] as const)
      if (request[k] >= 1n << 256n) throw new Error(`${k} does not fit in uint256`);
  } catch (err) {
    throw problem(400, "malformed-request", "the access request is malformed", (err as Error).message);
  }
  let signer: string;
  try {
    signer = verifyTypedData(
      accessDomain(deps.chainId, deps.market),
      ACCESS_REQUEST_TYPES as never,
      request as never,
      signature,
    );
  } catch (err) {
    throw problem(
      401,
      "bad-signature",
      "the access request signature cannot be verified",
      `${(err as Error).message.split("(")[0]!.trim()}; sign the EIP-712 AccessRequest with the buyer's key (device-sdk requestAccess)`,
    );
  }
  if (signer !== buyer)
    throw problem(
      401,
      "signer-mismatch",
      "the access request is not signed by its buyer",
      `it recovers to ${signer}, not ${buyer}: sign with the subscribing address's key, for chainId ${deps.chainId} and DataMarket ${deps.market}`,
    );
  return { ...request, buyer };
}

/** Every check, in order: 400, 401, 403 (stream/audience/feed), 422 (expired), 404/403/402 (chain; 403 also for a device transferred away from the lister), 409 (spent nonce). */
export async function authorise(
  deps: MarketDeps,
  o: {
    streamId: bigint;
    /** The host (name[:port]) the request was sent to, from its URL: the audience it must name, unless configured. */
    host: string;
    live: boolean;
    request: WireAccessRequest;
    signature: string;
    /** Last refusals before the nonce is spent (e.g. 404 for a device unknown here). */ beforeConsume?: (
      r: AccessRequest,
    ) => Promise<void>;
  },
): Promise<Authorised> {
  const request = recoverBuyer(deps, o.request, o.signature);
  if (request.streamId !== o.streamId)
    throw problem(
      403,
      "wrong-stream",
      "the access request was signed for another stream",
      `signed for stream ${request.streamId}, sent to stream ${o.streamId}`,
    );
  const host = o.host.toLowerCase();
  if (request.audience !== host && !deps.audiences.includes(request.audience))
    throw problem(
      403,
      "wrong-audience",
      "the access request was signed for another gateway",
      `signed for ${JSON.stringify(request.audience)}, sent to ${host}${deps.audiences.length ? ` (also accepted: ${deps.audiences.join(", ")})` : ""}: sign it with audience = the host you send it to (device-sdk requestAccess does)`,
    );
  if (request.live !== o.live)
    throw problem(
      403,
      "wrong-feed",
      `the access request was signed for the ${request.live ? "live feed" : "history"}`,
      `send it to /${request.live ? "live" : "history"}, or sign one with live: ${o.live}`,
    );
  const nowS = BigInt(Math.floor(deps.now() / 1000));
  if (request.expiry <= nowS)
    throw problem(
      422,
      "request-expired",
      "the access request has expired",
      `expiry ${request.expiry} ≤ now ${nowS} (gateway clock): sign a fresh request`,
    );
  if (request.expiry > nowS + BigInt(deps.maxTtlSeconds))
    throw problem(
      422,
      "request-too-long",
      "the access request lives too long",
      `expiry must be within ${deps.maxTtlSeconds} s of now (${nowS})`,
    );

  let stream: MarketStream | undefined;
  let expiresAt: bigint;
  let chainTime: bigint;
  try {
    [stream, expiresAt, chainTime] = await Promise.all([
      deps.reader.streamOf(request.streamId),
      deps.reader.expiresAt(request.streamId, request.buyer),
      deps.reader.chainTime(),
    ]);
  } catch (err) {
    throw new GatewayError(503, "chain-unavailable", "the gateway cannot read DataMarket", {
      cause: err,
      details: "retry later; the operator should check the RPC node",
      headers: { "retry-after": "5" },
    });
  }
  if (!stream)
    throw problem(
      404,
      "unknown-stream",
      `stream ${request.streamId} does not exist`,
      "list streams with `mfi market list`",
    );
  if (!stream.deviceIds.includes(request.deviceId))
    throw problem(
      403,
      "device-not-in-stream",
      `device ${request.deviceId} is not part of stream ${request.streamId}`,
      `the stream's devices: ${stream.deviceIds.join(", ")}`,
    );
  let deviceOwner: string;
  try {
    deviceOwner = await deps.reader.deviceOwner(request.deviceId);
  } catch (err) {
    throw new GatewayError(503, "chain-unavailable", "the gateway cannot read DeviceRegistry", {
      cause: err,
      details: "retry later; the operator should check the RPC node",
      headers: { "retry-after": "5" },
    });
  }
  // A transferred device's data is its new owner's: the lister's stream no longer covers it (as DataMarket.subscribe).
  if (deviceOwner.toLowerCase() !== stream.owner.toLowerCase())
    throw problem(
      403,
      "device-transferred",
      `device ${request.deviceId} no longer belongs to the owner of stream ${request.streamId}`,
      `it is now owned by ${deviceOwner}; the stream's lister (${stream.owner}) can no longer sell its data`,
    );
  if (expiresAt === 0n)
    throw problem(
      402,
      "subscription-required",
      `${request.buyer} has no subscription to stream ${request.streamId}`,
      "subscribe on DataMarket first: `mfi market subscribe <streamId>`",
    );
  if (expiresAt <= chainTime)
    throw problem(
      402,
      "subscription-expired",
      `the subscription of ${request.buyer} to stream ${request.streamId} has expired`,
      `expired at ${expiresAt}, chain time ${chainTime}: renew with \`mfi market subscribe <streamId>\``,
      {
        expiresAt: expiresAt.toString(),
        chainTime: chainTime.toString(),
      },
    );
  // A refused request does not spend its nonce (docs/market.md): every check that can refuse runs before this.
  await o.beforeConsume?.(request);
  if (!(await deps.nonces.consume(request.buyer, request.nonce, request.expiry, deps.now())))
    throw problem(
      409,
      "nonce-replayed",
      "this access request was used before",
      "every request is single use: sign a new one with a fresh nonce",
    );
  return { request, stream, expiresAt };
}
