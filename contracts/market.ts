/**
 * DataMarket client helpers: deploy, list a stream, subscribe (approve + pay), change price, delist, read.
 * Reverts surface as typed ContractRevertedError (`DataMarket__…`) through the layer's revert decoder.
 */
import { Contract, ContractFactory, type ContractTransactionReceipt } from "ethers";
import { getArtifact } from "./artifacts.ts";
import { toContractsError } from "./revert.ts";
import type { MachinefiClient } from "./client.ts";
import { ContractsError } from "./errors.ts";

export interface StreamInfo {
  streamId: bigint;
  owner: string;
  token: string;
  pricePerPeriod: bigint;
  periodSeconds: bigint;
  listed: boolean;
  deviceIds: bigint[];
}

export interface MarketClient {
  address: string;
  contract: Contract;
  list(p: { deviceIds: bigint[]; pricePerPeriod: bigint; periodSeconds: bigint; token?: string }): Promise<bigint>;
  /** Approves the exact amount, then subscribes; `maxPricePerPeriod` defaults to the price read just before. */
  subscribe(p: {
    streamId: bigint;
    periods: bigint;
    maxPricePerPeriod?: bigint;
  }): Promise<{ expiresAt: bigint; paid: bigint; fee: bigint }>;
  setPrice(streamId: bigint, price: bigint): Promise<void>;
  delist(streamId: bigint): Promise<void>;
  setFee(feeBps: number, recipient: string): Promise<void>;
  isSubscribed(streamId: bigint, buyer: string): Promise<boolean>;
  expiresAt(streamId: bigint, buyer: string): Promise<bigint>;
  stream(streamId: bigint): Promise<StreamInfo>;
}

/** Deploys another DataMarket bound to the client's DeviceRegistry (deployAll already deploys one); the deployer is governance and fee recipient. */
export async function deployDataMarket(admin: MachinefiClient): Promise<string> {
  const art = getArtifact("DataMarket");
  const signer = admin.contracts.devices.runner as never;
  const c = await new ContractFactory(art.abi as never, art.bytecode, signer).deploy(
    admin.address,
    admin.manifest.contracts.DeviceRegistry,
    admin.address,
  );
  await c.waitForDeployment();
  return c.getAddress();
}

/**
 * Mints DevToken (the devnet's free test stablecoin, manifest `contracts.DevToken`) to `to` (default: the client).
 * Throws when the manifest has no DevToken (not a devnet).
 */
export async function mintDevToken(
  client: MachinefiClient,
  amount: bigint,
  to: string = client.address,
): Promise<void> {
  const address = client.manifest.contracts.DevToken;
  if (!address) {
    throw new ContractsError(`no DevToken on chain ${client.chainId}`, {
      metaMessages: ["DevToken is deployed on devnets only; on other chains pay with a real ERC-20."],
    });
  }
  const token = new Contract(address, getArtifact("DevToken").abi as never, client.contracts.devices.runner as never);
  try {
    await (await token.getFunction("mint")(to, amount)).wait();
  } catch (err) {
    throw toContractsError(err, "DevToken.mint");
  }
}

/** A client for the DataMarket at `address` (default: the manifest's `contracts.DataMarket`). */
export function createMarketClient(
  client: MachinefiClient,
  address: string = client.manifest.contracts.DataMarket,
): MarketClient {
  const signer = client.contracts.devices.runner as never;
  const market = new Contract(address, getArtifact("DataMarket").abi as never, signer);
  const tokenAbi = getArtifact("RewardToken").abi as never;
  async function tx(method: string, args: unknown[]): Promise<ContractTransactionReceipt> {
    try {
      const sent = await market.getFunction(method).send(...args);
      return (await sent.wait())!;
    } catch (err) {
      throw toContractsError(err, `DataMarket.${method}`);
    }
  }
  async function call<T>(method: string, args: unknown[]): Promise<T> {
    try {
      return (await market.getFunction(method).staticCall(...args)) as T;
    } catch (err) {
      throw toContractsError(err, `DataMarket.${method}`);
    }
  }
  const self: MarketClient = {
    address,
    contract: market,
    async list(p) {
      const r = await tx("list", [
        p.deviceIds,
        p.token ?? client.manifest.contracts.RewardToken,
        p.pricePerPeriod,
        p.periodSeconds,
      ]);
      for (const log of r.logs) {
        const parsed = market.interface.parseLog(log);
        if (parsed?.name === "StreamListed") return parsed.args[0] as bigint;
      }
      throw new Error("StreamListed event missing from the list transaction");
    },
    async subscribe(p) {
      const s = await self.stream(p.streamId);
      const max = p.maxPricePerPeriod ?? s.pricePerPeriod;
      const token = new Contract(
        s.token === "0x0000000000000000000000000000000000000000" ? client.manifest.contracts.RewardToken : s.token,
        tokenAbi,
        signer,
      );
      try {
        await (await token.getFunction("approve")(address, max * p.periods)).wait();
      } catch (err) {
        throw toContractsError(err, "ERC20.approve");
      }
      const r = await tx("subscribe", [p.streamId, p.periods, max]);
      for (const log of r.logs) {
        if (log.address.toLowerCase() !== address.toLowerCase()) continue;
        const parsed = market.interface.parseLog(log);
        if (parsed?.name === "Subscribed")
          return { paid: parsed.args[3] as bigint, fee: parsed.args[4] as bigint, expiresAt: parsed.args[5] as bigint };
      }
      throw new Error("Subscribed event missing from the subscribe transaction");
    },
    async setPrice(streamId, price) {
      await tx("setPrice", [streamId, price]);
    },
    async delist(streamId) {
      await tx("delist", [streamId]);
    },
    async setFee(feeBps, recipient) {
      await tx("setFee", [feeBps, recipient]);
    },
    isSubscribed: (streamId, buyer) => call<boolean>("isSubscribed", [streamId, buyer]),
    expiresAt: (streamId, buyer) => call<bigint>("expiresAt", [streamId, buyer]),
    async stream(streamId) {
      const [s, ids] = await call<[[string, string, bigint, bigint, boolean], bigint[]]>("streamOf", [streamId]);
      return {
        streamId,
        owner: s[0],
        token: s[1],
        pricePerPeriod: s[2],
        periodSeconds: s[3],
        listed: s[4],
        deviceIds: [...ids],
      };
    },
  };
  return self;
}
