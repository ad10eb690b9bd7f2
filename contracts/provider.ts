/** ethers v6 provider and wallet tuned for devnets (fast polling, no response cache) and any other EVM RPC. */
import { JsonRpcProvider, Network, Wallet } from "ethers";

const DEVNET_CHAIN_IDS = new Set([31337n, 1337n]);

export function isDevnet(chainId: bigint | number): boolean {
  return DEVNET_CHAIN_IDS.has(BigInt(chainId));
}

/**
 * A provider that polls every 15 ms on a devnet (anvil mines at once) and every 2 s elsewhere. The response cache is
 * off: a balance read right after a payout must see it.
 */
export function makeProvider(rpcUrl: string, chainId?: bigint | number): JsonRpcProvider {
  const local =
    /^https?:\/\/(127\.0\.0\.1|localhost|\[::1\])/.test(rpcUrl) || (chainId !== undefined && isDevnet(chainId));
  const provider = new JsonRpcProvider(rpcUrl, chainId === undefined ? undefined : Network.from(BigInt(chainId)), {
    staticNetwork: chainId !== undefined,
    pollingInterval: local ? 15 : 2000,
    cacheTimeout: -1,
  });
  provider.pollingInterval = local ? 15 : 2000;
  return provider;
}

export function makeWallet(privateKey: string, provider: JsonRpcProvider): Wallet {
  return new Wallet(privateKey, provider);
}

/** Socket and DNS failures (Node's and undici's codes) and ethers' transport codes: the RPC endpoint did not answer. */
const UNREACHABLE_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EPIPE",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
  "NETWORK_ERROR",
  "TIMEOUT",
]);
/** ethers' SERVER_ERROR is any non-2xx reply: only these statuses say the endpoint could not answer (a 4xx is an answer). */
const UNAVAILABLE_STATUS = /^(5\d\d|429|408)\b/;
const UNREACHABLE_TEXT =
  /\b(ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH)\b|fetch failed|socket hang up/;

/**
 * Whether `err` (or an error in its cause chain) says the RPC endpoint could not be reached or did not answer, as
 * opposed to the chain answering no (a revert, a bad argument). Nothing was decided on chain: the caller waits and
 * asks again, it does not count the failure against what it was doing.
 */
export function isChainUnreachable(err: unknown): boolean {
  for (let e = err, depth = 0; e && depth < 10; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    // a revert says the chain answered, whatever else the error carries
    if (code === "CALL_EXCEPTION" || (e as { data?: unknown }).data !== undefined) return false;
    if (typeof code === "string" && UNREACHABLE_CODES.has(code)) return true;
    if (code === "SERVER_ERROR") {
      const status = (e as { info?: { responseStatus?: unknown } }).info?.responseStatus;
      return typeof status === "string" && UNAVAILABLE_STATUS.test(status);
    }
    if (e instanceof Error && UNREACHABLE_TEXT.test(e.message)) return true;
  }
  return false;
}
