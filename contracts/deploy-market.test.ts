/** deployAll's DataMarket and DevToken: recorded in the manifest, governance options honoured, DevToken devnet-only. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Contract, Wallet, id, ZeroHash } from "ethers";
import {
  startAnvil,
  deployAll,
  createMachinefiClient,
  createMarketClient,
  mintDevToken,
  getArtifact,
  ContractsError,
  type Anvil,
  type MachinefiClient,
} from "./index.ts";
import { registerMockDevice } from "./fixture.ts";

let anvil: Anvil;
beforeAll(async () => {
  anvil = await startAnvil();
});
afterAll(() => anvil?.stop());

const addr = (key: string) => new Wallet(key).address;

describe("deployAll: DataMarket and DevToken", () => {
  it("deploys DataMarket with no fee governed by the deployer, and DevToken anyone can mint and pay a stream with", async () => {
    const manifest = await deployAll({
      rpcUrl: anvil.rpcUrl,
      privateKey: anvil.accounts[0]!,
      manifestDir: false,
      mockRegistration: true,
    });
    expect(manifest.contracts.DataMarket).toMatch(/^0x[0-9a-fA-F]{40}$/);
    expect(manifest.contracts.DevToken).toMatch(/^0x[0-9a-fA-F]{40}$/);
    const [admin, owner, buyer] = [0, 1, 2].map((i) =>
      createMachinefiClient({ rpcUrl: anvil.rpcUrl, privateKey: anvil.accounts[i]!, manifest }),
    ) as [MachinefiClient, MachinefiClient, MachinefiClient];
    try {
      const market = createMarketClient(owner);
      expect(market.address).toBe(manifest.contracts.DataMarket);
      expect(await market.contract.getFunction("feeBps")()).toBe(0n);
      expect(await market.contract.getFunction("feeRecipient")()).toBe(admin.address);
      expect(await market.contract.getFunction("hasRole")(id("GOVERNANCE_ROLE"), admin.address)).toBe(true);
      expect(await market.contract.getFunction("devices")()).toBe(manifest.contracts.DeviceRegistry);

      // a buyer (not the deployer) mints itself DevToken and buys a stream priced in it; the owner gets all of it
      await mintDevToken(buyer, 1_000n);
      const dev = new Contract(manifest.contracts.DevToken!, getArtifact("DevToken").abi as never, buyer.provider);
      expect(await dev.getFunction("balanceOf")(buyer.address)).toBe(1_000n);
      const device = await registerMockDevice(owner);
      const streamId = await market.list({
        deviceIds: [device],
        pricePerPeriod: 300n,
        periodSeconds: 60n,
        token: manifest.contracts.DevToken,
      });
      const r = await createMarketClient(buyer).subscribe({ streamId, periods: 2n });
      expect(r).toMatchObject({ paid: 600n, fee: 0n });
      expect(await dev.getFunction("balanceOf")(buyer.address)).toBe(400n);
      expect(await dev.getFunction("balanceOf")(owner.address)).toBe(600n);
      expect(await dev.getFunction("balanceOf")(manifest.contracts.DataMarket)).toBe(0n);
    } finally {
      for (const c of [admin, owner, buyer]) c.close();
    }
  });

  it("hands DataMarket governance to another account with a fee and recipient, the deployer keeps no role", async () => {
    const [gov, recipient] = [addr(anvil.accounts[3]!), addr(anvil.accounts[4]!)];
    const manifest = await deployAll({
      rpcUrl: anvil.rpcUrl,
      privateKey: anvil.accounts[0]!,
      manifestDir: false,
      mockRegistration: true,
      market: { governance: gov, feeBps: 250, feeRecipient: recipient },
    });
    const admin = createMachinefiClient({ rpcUrl: anvil.rpcUrl, privateKey: anvil.accounts[0]!, manifest });
    try {
      const m = createMarketClient(admin).contract;
      expect(await m.getFunction("feeBps")()).toBe(250n);
      expect(await m.getFunction("feeRecipient")()).toBe(recipient);
      for (const role of [id("GOVERNANCE_ROLE"), ZeroHash]) {
        expect(await m.getFunction("hasRole")(role, gov)).toBe(true);
        expect(await m.getFunction("hasRole")(role, admin.address)).toBe(false);
      }
      // so the deployer can no longer change the fee
      const err = await createMarketClient(admin)
        .setFee(0, admin.address)
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(err).toBeInstanceOf(ContractsError);
    } finally {
      admin.close();
    }
  });

  it("refuses a fee above the cap before deploying anything", async () => {
    for (const feeBps of [1_001, -1, 2.5]) {
      await expect(
        deployAll({
          rpcUrl: anvil.rpcUrl,
          privateKey: anvil.accounts[0]!,
          manifestDir: false,
          mockRegistration: true,
          market: { feeBps },
        }),
      ).rejects.toThrow(/feeBps/);
    }
  });

  it("never deploys DevToken off a devnet, and the contract itself refuses such a chain", async () => {
    const other = await startAnvil({ chainId: 4690 });
    try {
      const opts = {
        rpcUrl: other.rpcUrl,
        privateKey: other.accounts[0]!,
        manifestDir: false as const,
        allowMockVerifier: true,
        mockRegistration: true,
        devKeysIKnowTheyAreInsecure: true,
      };
      const m = await deployAll(opts);
      expect(m.contracts.DevToken).toBeUndefined();
      expect(m.contracts.DataMarket).toMatch(/^0x[0-9a-fA-F]{40}$/);
      await expect(deployAll({ ...opts, devToken: true })).rejects.toThrow(/devnets only/);
      const client = createMachinefiClient({ rpcUrl: other.rpcUrl, privateKey: other.accounts[0]!, manifest: m });
      try {
        await expect(mintDevToken(client, 1n)).rejects.toBeInstanceOf(ContractsError);
        const { deployContract } = await import("./deploy.ts");
        const { makeProvider, makeWallet } = await import("./provider.ts");
        const provider = makeProvider(other.rpcUrl);
        try {
          await expect(deployContract(makeWallet(other.accounts[0]!, provider), "DevToken")).rejects.toThrow();
        } finally {
          provider.destroy();
        }
      } finally {
        client.close();
      }
    } finally {
      await other.stop();
    }
  });
});
