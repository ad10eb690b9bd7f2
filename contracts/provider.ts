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
