/**
 * Gas of the data market and the example insurance, for contracts/bench.ts (ids gas.market.*, gas.insurance.*).
 * Facts come from MockVerifier claims: the insurance only reads factOf, so its gas does not depend on the proof.
 */
import type { BenchResult } from "../../core/index.ts";
import { median } from "../../core/index.ts";
import { mockClaim, randomImageId, registerMockDevice, type Devnet } from "../fixture.ts";
import { createMarketClient, mintDevToken, type MachinefiClient } from "../index.ts";
import { createInsuranceClient, deployInsurance, Trigger } from "./insurance.ts";

export async function marketAndInsuranceGas(net: Devnet, log: (m: string) => void): Promise<BenchResult[]> {
  const [admin, owner, buyer] = net.clients as [MachinefiClient, MachinefiClient, MachinefiClient];
  const token = net.manifest.contracts.DevToken!;
  const gasOf = async (hash: string) => Number((await admin.provider.getTransactionReceipt(hash))!.gasUsed);
  const lastTx = async (c: MachinefiClient) => {
    const block = await c.provider.getBlock("latest", false);
    return block!.transactions.at(-1)!;
  };

  const market = createMarketClient(owner);
  const device = await registerMockDevice(owner);
  await market.list({ deviceIds: [device], pricePerPeriod: 100n, periodSeconds: 3_600n, token });
  const listGas = await gasOf(await lastTx(owner));
  const streamId = await market.list({ deviceIds: [device], pricePerPeriod: 100n, periodSeconds: 3_600n, token });
  await mintDevToken(buyer, 10_000n);
  const subGas: number[] = [];
  for (let i = 0; i < 3; i++) {
    await createMarketClient(buyer).subscribe({ streamId, periods: 1n });
    subGas.push(await gasOf(await lastTx(buyer)));
  }
  log(`market: list ${listGas}, subscribe ${subGas.join(", ")} (first one creates the subscription slot)`);

  const imageId = randomImageId();
  await admin.registerApplet({ imageId, verifier: "mock", rewardPerUnit: 1n, param: 300n, epochLengthMs: 60_000n });
  const address = await deployInsurance(admin, {
    token,
    terms: {
      imageId,
      trigger: Trigger.AtLeast,
      line: 3n,
      epochLengthMs: 60_000n,
      premiumPerEpoch: 10n,
      payout: 1_000n,
      maxEpochs: 24,
      claimWindow: 3_600n,
    },
    expectedParam: 300n,
  });
  await mintDevToken(admin, 100_000n);
  await createInsuranceClient(admin, address).fund(100_000n);
  const holder = createInsuranceClient(buyer, address);
  const buyGas: number[] = [];
  const claimGas: number[] = [];
  for (let i = 0; i < 3; i++) {
    // cover on the applet's one-minute schedule (its genesis is the registration's minute), from the next minute
    const chainMs = BigInt((await admin.provider.getBlock("latest"))!.timestamp) * 1000n;
    const nowMs = chainMs - (chainMs % 60_000n) + 60_000n;
    const deviceId = await registerMockDevice(owner);
    const { policyId } = await holder.buy({ deviceId, startMs: nowMs, epochs: 2 });
    buyGas.push(await gasOf(await lastTx(buyer)));
    const epoch = (nowMs << 32n) | 60_000n;
    // the vault pays an epoch once it has ended: move chain time past it
    await admin.provider.send("evm_setNextBlockTimestamp", [Number((nowMs + 60_000n) / 1000n)]);
    await admin.provider.send("evm_mine", []);
    await admin.claim(mockClaim({ imageId, deviceId, epoch, output: 5n, param: 300n }));
    claimGas.push(Number((await holder.claim({ policyId, epoch })).gasUsed));
  }
  log(`insurance: buy ${buyGas.join(", ")}, claim (payout) ${claimGas.join(", ")}`);
  return [
    { id: "gas.market.list", value: listGas, unit: "gas", note: "DataMarket.list of one device" },
    {
      id: "gas.market.subscribe",
      value: median(subGas),
      unit: "gas",
      note: `subscribe 1 period, no fee (first for a buyer: ${subGas[0]})`,
    },
    {
      id: "gas.insurance.buy",
      value: median(buyGas),
      unit: "gas",
      note: "ParametricInsurance.buy (2 epochs; premium transfer, reserve)",
    },
    {
      id: "gas.insurance.claim",
      value: median(claimGas),
      unit: "gas",
      note: "ParametricInsurance.claim: reads PayoutVault.factOf, pays out",
    },
  ];
}
