/** DataMarket on real anvil: list, subscribe, fees, price changes, delisting, expiry, and every bad-input path. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Contract, id } from "ethers";
import { startDevnet, registerMockDevice, type Devnet } from "./fixture.ts";
import { ContractRevertedError, getArtifact } from "./index.ts";
import { toContractsError } from "./revert.ts";
import { createMarketClient, deployDataMarket, type MarketClient } from "./market.ts";
import type { MachinefiClient } from "./client.ts";
import { reverted } from "./expect-revert.ts";

let net: Devnet;
let admin: MachinefiClient, owner: MachinefiClient, buyer: MachinefiClient, other: MachinefiClient;
let mAdmin: MarketClient, mOwner: MarketClient, mBuyer: MarketClient, mOther: MarketClient;
const PERIOD = 3_600n;

async function advance(seconds: bigint): Promise<void> {
  await admin.provider.send("evm_increaseTime", [Number(seconds)]);
  await admin.provider.send("evm_mine", []);
}

beforeAll(async () => {
  net = await startDevnet();
  [admin, owner, buyer, other] = net.clients as [MachinefiClient, MachinefiClient, MachinefiClient, MachinefiClient];
  const address = await deployDataMarket(admin);
  [mAdmin, mOwner, mBuyer, mOther] = [admin, owner, buyer, other].map((c) => createMarketClient(c, address)) as [
    MarketClient,
    MarketClient,
    MarketClient,
    MarketClient,
  ];
  // fund the buyers with reward tokens (the deployer, as token admin, makes itself a minter for the test)
  const token = new Contract(
    admin.manifest.contracts.RewardToken,
    getArtifact("RewardToken").abi as never,
    admin.contracts.token.runner as never,
  );
  await (await token.getFunction("grantRole")(id("MINTER_ROLE"), admin.address)).wait();
  for (const c of [buyer, other]) await (await token.getFunction("mint")(c.address, 1_000_000n)).wait();
});
afterAll(() => net?.stop());

async function listedStream(price = 100n): Promise<bigint> {
  const d1 = await registerMockDevice(owner);
  const d2 = await registerMockDevice(owner);
  return mOwner.list({ deviceIds: [d1, d2], pricePerPeriod: price, periodSeconds: PERIOD });
}

describe("DataMarket", () => {
  it("lists a group of the owner's devices and refuses someone else's device", async () => {
    const streamId = await listedStream();
    const s = await mOwner.stream(streamId);
    expect(s).toMatchObject({ owner: owner.address, pricePerPeriod: 100n, periodSeconds: PERIOD, listed: true });
    expect(s.deviceIds).toHaveLength(2);
    const foreign = await registerMockDevice(other);
    const err = await reverted(
      mOwner.list({ deviceIds: [foreign], pricePerPeriod: 1n, periodSeconds: PERIOD }),
      "DataMarket__NotDeviceOwner",
    );
    expect(err.args[0]).toBe(foreign);
    await reverted(mOwner.list({ deviceIds: [], pricePerPeriod: 1n, periodSeconds: PERIOD }), "DataMarket__NoDevices");
    await reverted(
      mOwner.list({ deviceIds: [foreign], pricePerPeriod: 1n, periodSeconds: 0n }),
      "DataMarket__ZeroPeriod",
    );
  });

  it("subscribes, pays the owner minus the protocol fee, and balances add up", async () => {
    const streamId = await listedStream(250n);
    await mAdmin.setFee(500, other.address); // 5% to `other`
    const before = {
      buyer: await buyer.balanceOf(),
      owner: await owner.balanceOf(),
      fee: await other.balanceOf(),
      market: await buyer.balanceOf(mBuyer.address),
    };
    const r = await mBuyer.subscribe({ streamId, periods: 3n });
    expect(r.paid).toBe(750n);
    expect(r.fee).toBe(37n); // floor(750 × 5%)
    expect(await buyer.balanceOf()).toBe(before.buyer - 750n);
    expect(await owner.balanceOf()).toBe(before.owner + 713n);
    expect(await other.balanceOf()).toBe(before.fee + 37n);
    expect(await buyer.balanceOf(mBuyer.address)).toBe(before.market); // nothing stuck in the market
    expect(await mBuyer.isSubscribed(streamId, buyer.address)).toBe(true);
    expect(await mBuyer.isSubscribed(streamId, other.address)).toBe(false);
    await mAdmin.setFee(0, admin.address);
  });

  it("refuses paying less than the price (price raised after the quote) and a zero-period subscription", async () => {
    const streamId = await listedStream(100n);
    await mOwner.setPrice(streamId, 120n);
    const err = await reverted(
      mBuyer.subscribe({ streamId, periods: 1n, maxPricePerPeriod: 100n }),
      "DataMarket__PriceExceeded",
    );
    expect(err.args[1]).toBe(120n);
    await reverted(mBuyer.subscribe({ streamId, periods: 0n }), "DataMarket__ZeroPeriods");
    // an allowance short of the price fails in the token, and the buyer keeps the funds
    const before = await buyer.balanceOf();
    const token = new Contract(
      buyer.manifest.contracts.RewardToken,
      getArtifact("RewardToken").abi as never,
      buyer.contracts.token.runner as never,
    );
    await (await token.getFunction("approve")(mBuyer.address, 50n)).wait();
    await reverted(
      mBuyer.contract
        .getFunction("subscribe")
        .send(streamId, 1n, 120n)
        .catch((e) => {
          throw toErr(e);
        }),
      "ERC20InsufficientAllowance",
    );
    expect(await buyer.balanceOf()).toBe(before);
    expect(await mBuyer.isSubscribed(streamId, buyer.address)).toBe(false);
  });

  it("changes the price for new periods only, extends running subscriptions and expires them", async () => {
    const streamId = await listedStream(10n);
    const first = await mBuyer.subscribe({ streamId, periods: 1n });
    await mOwner.setPrice(streamId, 20n);
    const second = await mBuyer.subscribe({ streamId, periods: 2n });
    expect(second.paid).toBe(40n);
    expect(second.expiresAt).toBe(first.expiresAt + 2n * PERIOD);
    await reverted(mOther.setPrice(streamId, 1n), "DataMarket__NotStreamOwner");
    await advance(3n * PERIOD + 1n);
    expect(await mBuyer.isSubscribed(streamId, buyer.address)).toBe(false);
  });

  it("delisting stops new subscriptions but keeps running ones; only the owner delists", async () => {
    const streamId = await listedStream(5n);
    await mBuyer.subscribe({ streamId, periods: 1n });
    await reverted(mOther.delist(streamId), "DataMarket__NotStreamOwner");
    await mOwner.delist(streamId);
    expect((await mOwner.stream(streamId)).listed).toBe(false);
    await reverted(mOther.subscribe({ streamId, periods: 1n }), "DataMarket__StreamDelisted");
    await reverted(mOwner.delist(streamId), "DataMarket__StreamDelisted");
    expect(await mBuyer.isSubscribed(streamId, buyer.address)).toBe(true);
    await reverted(
      mBuyer.subscribe({ streamId: 999n, periods: 1n, maxPricePerPeriod: 0n }),
      "DataMarket__UnknownStream",
    );
  });

  it("caps the protocol fee and reserves it to governance", async () => {
    await reverted(mAdmin.setFee(1_001, admin.address), "DataMarket__FeeTooHigh");
    await reverted(mOther.setFee(10, other.address), "AccessControlUnauthorizedAccount");
  });
});

/** Raw contract calls (bypassing the helper) still decode their revert through the layer's decoder. */
function toErr(e: unknown) {
  return toContractsError(e, "DataMarket.subscribe");
}
