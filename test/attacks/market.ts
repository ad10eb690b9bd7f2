/**
 * Medium and low (issue 16), DataMarket on real anvil: a stream kept selling a device's data after the device was
 * transferred (on chain and at the gateway), and `subscribe` truncated `uint64(periods)` while charging the full
 * `price × periods`.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Contract, id, Wallet } from "ethers";
import { startDevnet, registerMockDevice, type Devnet } from "../../contracts/fixture.ts";
import { reverted } from "../../contracts/expect-revert.ts";
import { createMarketClient, getArtifact, type MachinefiClient, type MarketClient } from "../../contracts/index.ts";
import { requestAccess } from "../../device-sdk/index.ts";
import { ethersMarketReader, GatewayError } from "../../gateway/index.ts";
import { authorise } from "../../gateway/market/index.ts";

const PERIOD = 3_600n;

describe("attack: DataMarket sells a transferred device and truncates periods (market)", { timeout: 120_000 }, () => {
  let net: Devnet;
  let owner: MachinefiClient, buyer: MachinefiClient, newOwner: MachinefiClient;
  let mOwner: MarketClient, mBuyer: MarketClient;
  let token: Contract;

  beforeAll(async () => {
    net = await startDevnet({ clients: 4 });
    const admin = net.clients[0]!;
    [, owner, buyer, newOwner] = net.clients as [MachinefiClient, MachinefiClient, MachinefiClient, MachinefiClient];
    const market = net.manifest.contracts.DataMarket;
    [mOwner, mBuyer] = [createMarketClient(owner, market), createMarketClient(buyer, market)];
    token = new Contract(
      admin.manifest.contracts.RewardToken,
      getArtifact("RewardToken").abi as never,
      admin.contracts.token.runner as never,
    );
    await (await token.getFunction("grantRole")(id("MINTER_ROLE"), admin.address)).wait();
    await (await token.getFunction("mint")(buyer.address, 1n << 66n)).wait();
  });
  afterAll(() => net?.stop());

  const listWithToken = async (deviceIds: bigint[], price: bigint) =>
    mOwner.list({ deviceIds, pricePerPeriod: price, periodSeconds: PERIOD, token: net.manifest.contracts.RewardToken });

  it("market: subscribing after a listed device was transferred reverts DataMarket__DeviceTransferred", async () => {
    const [d1, d2] = [await registerMockDevice(owner), await registerMockDevice(owner)];
    const streamId = await listWithToken([d1, d2], 10n);
    await owner.transferDevice({ deviceId: d2, to: newOwner.address });
    const err = await reverted(mBuyer.subscribe({ streamId, periods: 1n }), "DataMarket__DeviceTransferred");
    expect(err.args.slice(1)).toEqual([d2, newOwner.address]);
    expect(await mBuyer.isSubscribed(streamId, buyer.address)).toBe(false);
  });

  it("market: the gateway serves nothing for a device transferred after the buyer subscribed (403 device-transferred)", async () => {
    const [d1, d2] = [await registerMockDevice(owner), await registerMockDevice(owner)];
    const streamId = await listWithToken([d1, d2], 10n);
    await mBuyer.subscribe({ streamId, periods: 1n });
    await owner.transferDevice({ deviceId: d2, to: newOwner.address });
    const reader = ethersMarketReader({ rpcUrl: net.anvil.rpcUrl, address: net.manifest.contracts.DataMarket });
    try {
      const deps = {
        reader,
        nonces: { consume: async () => true },
        chainId: BigInt(net.manifest.chainId),
        market: net.manifest.contracts.DataMarket,
        now: Date.now,
        maxTtlSeconds: 600,
        audiences: [],
      };
      const signer = new Wallet(net.anvil.accounts[2]!);
      const ask = async (deviceId: bigint) =>
        authorise(deps, {
          streamId,
          host: "unused",
          live: false,
          ...(await requestAccess({
            url: "http://unused",
            signer,
            streamId,
            deviceId,
            chainId: deps.chainId,
            market: deps.market,
          })),
        });
      expect((await ask(d1)).stream.owner).toBe(owner.address); // the lister's own device is still served
      const err = await ask(d2).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(GatewayError);
      expect((err as GatewayError).status).toBe(403);
      expect((err as GatewayError).type).toBe("device-transferred");
    } finally {
      reader.close();
    }
  });

  it("market: periods = 2^64 + 1 reverts SafeCastOverflowedUintDowncast instead of charging 2^64 + 1 periods for one", async () => {
    const streamId = await listWithToken([await registerMockDevice(owner)], 1n);
    const before = await token.getFunction("balanceOf")(buyer.address);
    const err = await reverted(
      mBuyer.subscribe({ streamId, periods: (1n << 64n) + 1n }),
      "SafeCastOverflowedUintDowncast",
    );
    expect(err.args).toEqual([64n, (1n << 64n) + 1n]);
    expect(await token.getFunction("balanceOf")(buyer.address)).toBe(before);
    expect(await mBuyer.isSubscribed(streamId, buyer.address)).toBe(false);
  });
});
