/** The gateway's data-market feature: options and the sub-app createGateway mounts when given a chain reader. */
import { getAddress } from "ethers";
import type { GatewayContext } from "../context.ts";
import { GatewayError } from "../errors.ts";
import { marketRoutes } from "../routes/market.ts";
import type { MarketChainReader } from "./chain-reader.ts";
import { cachedMarketReader } from "./cached-reader.ts";
import type { NonceStore } from "../../store/index.ts";

export { ethersMarketReader, type MarketChainReader, type MarketStream } from "./chain-reader.ts";
export { cachedMarketReader, type CachedReaderOptions } from "./cached-reader.ts";
export { authorise, recoverBuyer, type Authorised, type MarketDeps } from "./access.ts";

export interface MarketOptions {
  /** Reads DataMarket (stream devices, subscription expiry, chain time). */
  reader: MarketChainReader;
  /** DataMarket address: the EIP-712 domain's verifyingContract. */
  address: string;
  /** The domain's chainId (default: the gateway's chainId). */
  chainId?: bigint;
  /** Spent nonces (default: the store's, when the gateway opened or was given a StoreSet). */
  nonces?: NonceStore;
  /** Longest access-request lifetime in seconds (default 600). */
  maxTtlSeconds?: number;
  /** Live feed: store poll (default 250 ms) and chain poll (default 1000 ms) intervals. */
  pollMs?: number;
  chainPollMs?: number;
  /** Readings per history response (default 1000). */
  pageLimit?: number;
  /** Live feeds one buyer may hold open at once (default 4). */
  maxFeedsPerBuyer?: number;
  /**
   * How long chain answers (stream, subscription, device owner; chain time at most 1 s) are reused, shared by every
   * request and live feed (default 2000 ms; 0: read the chain every time). A new subscription, transfer or expiry
   * is seen at most this much later.
   */
  chainCacheMs?: number;
  /** Audiences accepted besides the host a request is sent to (MFI_GATEWAY_AUDIENCE; see MarketDeps.audiences). */
  audiences?: readonly string[];
}

export function marketApp(ctx: GatewayContext, o: MarketOptions) {
  if (!o.nonces)
    throw new GatewayError(500, "config", "the data market needs a nonce store", {
      details: "pass market.nonces, or a store that has one (openStore)",
    });
  return marketRoutes(ctx, {
    reader: cachedMarketReader(o.reader, { ttlMs: o.chainCacheMs }),
    nonces: o.nonces,
    chainId: o.chainId ?? ctx.chainId,
    market: getAddress(o.address.toLowerCase()),
    now: ctx.now,
    maxTtlSeconds: o.maxTtlSeconds ?? 600,
    audiences: (o.audiences ?? []).map((a) => a.toLowerCase()),
    live: { pollMs: o.pollMs ?? 250, chainPollMs: o.chainPollMs ?? 1000 },
    pageLimit: o.pageLimit ?? 1000,
    maxFeedsPerBuyer: o.maxFeedsPerBuyer,
  });
}
