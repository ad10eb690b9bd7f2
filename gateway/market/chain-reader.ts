/**
 * What the gateway reads from L1 to serve a stream: the stream's devices, the buyer's subscription expiry and the
 * chain's own time. A small interface so the routes stay testable and the chain client stays swappable; the
 * ethers implementation below reads DataMarket with a minimal ABI (no build artefacts needed).
 */
import { Contract, JsonRpcProvider, type Provider } from "ethers";

export interface MarketStream {
  owner: string;
  listed: boolean;
  deviceIds: bigint[];
}

export interface MarketChainReader {
  /** undefined when no stream has this id. */
  streamOf(streamId: bigint): Promise<MarketStream | undefined>;
  /** Subscription end in unix seconds (0: never subscribed). Active while > chain time, as DataMarket.isSubscribed. */
  expiresAt(streamId: bigint, buyer: string): Promise<bigint>;
  /** Timestamp of the latest block: subscriptions expire on chain time, not on the gateway's clock. */
  chainTime(): Promise<bigint>;
  /**
   * The device's current owner in DeviceRegistry (the zero address when unknown): a stream serves a device only
   * while its lister still owns it, as DataMarket.subscribe requires.
   */
  deviceOwner(deviceId: bigint): Promise<string>;
}

const ABI = [
  "function streamOf(uint256 streamId) view returns (tuple(address owner, address token, uint256 pricePerPeriod, uint64 periodSeconds, bool listed) stream, uint256[] deviceIds)",
  "function expiresAt(uint256 streamId, address buyer) view returns (uint64)",
  "function devices() view returns (address)",
];
const DEVICES_ABI = ["function deviceOf(uint256 deviceId) view returns (address owner, bool active)"];
const ZERO = "0x0000000000000000000000000000000000000000";

/** Reads DataMarket at `address` through a JSON-RPC URL or an ethers provider (the caller then owns it). */
export function ethersMarketReader(o: {
  rpcUrl?: string;
  provider?: Provider;
  address: string;
}): MarketChainReader & { close(): void } {
  const own = o.provider ? undefined : new JsonRpcProvider(o.rpcUrl, undefined, { staticNetwork: true });
  const provider = o.provider ?? own!;
  const market = new Contract(o.address, ABI, provider);
  let registry: Promise<Contract> | undefined; // DataMarket.devices is immutable: read it once
  return {
    async streamOf(streamId) {
      const [s, ids] = (await market.getFunction("streamOf").staticCall(streamId)) as [
        [string, string, bigint, bigint, boolean],
        bigint[],
      ];
      if (s[0] === ZERO) return undefined;
      return { owner: s[0], listed: s[4], deviceIds: [...ids] };
    },
    async expiresAt(streamId, buyer) {
      return BigInt(await market.getFunction("expiresAt").staticCall(streamId, buyer));
    },
    async chainTime() {
      const block = await provider.getBlock("latest");
      if (!block) throw new Error("the node returned no latest block");
      return BigInt(block.timestamp);
    },
    async deviceOwner(deviceId) {
      registry ??= market
        .getFunction("devices")
        .staticCall()
        .then((a: string) => new Contract(a, DEVICES_ABI, provider));
      const [owner] = (await (await registry).getFunction("deviceOf").staticCall(deviceId)) as [string, boolean];
      return owner;
    },
    close() {
      own?.destroy();
    },
  };
}
