/**
 * Composable facts end to end, all real: signed readings → gateway → the worker runs threshold-alert → Groth16 proof
 * (circom/snarkjs, generated verifier) → PayoutVault pays the claim and records the fact → the example consumer
 * ParametricInsurance pays a heat-wave policy from that fact alone. The readings are posted ahead of time into an
 * epoch that starts after the policies were bought (a policy cannot cover the past), so the test waits one epoch.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Contract } from "ethers";
import { packEpoch, type DeviceClient, type DeviceKey } from "../device-sdk/index.ts";
import { createMachinefiClient, getArtifact, mintDevToken, type MachinefiClient } from "../contracts/index.ts";
import {
  createInsuranceClient,
  deployInsurance,
  Trigger,
  type InsuranceClient,
} from "../contracts/examples/insurance.ts";
import { closeProver } from "../circuits/index.ts";
import { loadConfig } from "../cli/config.ts";
import { startDevnet, type Devnet } from "../cli/devnet/devnet.ts";
import { listApplets } from "../toolchain/index.ts";
import { expectedOutput, registerDevices, waitFor } from "./helpers.ts";
import { reverted } from "../contracts/expect-revert.ts";

const EPOCH = 4_000;
const LINE = 3n; // pays when at least 3 readings of the epoch are above threshold-alert's threshold
const PAYOUT = 5_000n;
let net: Devnet;
let imageId: string, threshold: bigint;
let insurer: InsuranceClient;
const devices: {
  key: DeviceKey;
  client: DeviceClient;
  holder: MachinefiClient;
  policy: InsuranceClient;
  values: bigint[];
}[] = [];

beforeAll(async () => {
  net = await startDevnet({
    config: loadConfig({ env: {}, overrides: { devices: 0, epochMs: EPOCH, epochGraceMs: 0, simulate: false } }),
    gateway: { maxClockSkewMs: null, rateLimit: false }, // readings are posted before their epoch
    applets: ["threshold-alert"],
  });
  const applet = net.applets.find((a) => a.name === "threshold-alert")!;
  imageId = `0x${applet.imageId}`;
  threshold = BigInt(listApplets().find((a) => a.name === "threshold-alert")!.manifest.param!);
  const address = await deployInsurance(net.admin, {
    token: net.manifest.contracts.DevToken!,
    terms: {
      imageId,
      trigger: Trigger.AtLeast,
      line: LINE,
      epochLengthMs: BigInt(EPOCH),
      premiumPerEpoch: 7n,
      payout: PAYOUT,
      maxEpochs: 10,
      claimWindow: 3_600n,
    },
    expectedParam: threshold,
  });
  insurer = createInsuranceClient(net.admin, address);
  await mintDevToken(net.admin, 2n * PAYOUT);
  await insurer.fund(2n * PAYOUT);
  for (const [d, { key, client }] of (await registerDevices(net, 2, (i) => net.owners[i]!)).entries()) {
    const holder = createMachinefiClient({ rpcUrl: net.rpcUrl, privateKey: net.keys[2 + d]!, manifest: net.manifest });
    await mintDevToken(holder, 100n);
    devices.push({ key, client, holder, policy: createInsuranceClient(holder, address), values: [] });
  }
}, 300_000);

afterAll(async () => {
  for (const d of devices) d.holder.close();
  await net?.stop();
  await closeProver();
});

describe("readings → proof → vault fact → insurance payout", () => {
  it("pays the policy of the device whose proven count of hot readings reaches the line, and only that one", async () => {
    // the fact must come from a real Groth16 verifier, not MockVerifier
    // (threshold-alert's own compiled circuit's verifier, deployed when the devnet registered it)
    const verifier = await net.admin.verifierOf({ imageId, k: 16 });
    expect(verifier).not.toBe(net.manifest.contracts.MockVerifier);
    expect(await net.admin.provider.getCode(verifier)).not.toBe("0x");
    const token = new Contract(
      net.manifest.contracts.DevToken!,
      getArtifact("DevToken").abi as never,
      net.admin.provider,
    );
    const balance = (a: string) => token.getFunction("balanceOf")(a) as Promise<bigint>;
    const accounts = [net.admin.address, insurer.address, ...devices.map((d) => d.holder.address)];
    const total = async () => (await Promise.all(accounts.map(balance))).reduce((a, b) => a + b, 0n);
    const totalBefore = await total();

    // cover: three epochs from the next epoch boundary at least 4 s ahead of both clocks (time to post and buy)
    const chainMs = (await net.admin.provider.getBlock("latest"))!.timestamp * 1000;
    const startMs = Math.ceil((Math.max(Date.now(), chainMs) + 4_000) / EPOCH) * EPOCH;
    const epoch = packEpoch({ startMs: BigInt(startMs), lengthMs: BigInt(EPOCH) });

    // device 0 runs hot (3 readings above the threshold), device 1 only once; then two readings after the epoch seal it
    const hot = [threshold + 50n, threshold + 120n, 90n, threshold + 1n, 40n];
    const mild = [threshold + 10n, 120n, 90n, threshold, 40n];
    // posted ahead of their epoch, so the worker (which closes it once it has ended) cannot miss them
    for (const [i, d] of devices.entries()) {
      d.values = i === 0 ? hot : mild;
      const inside = d.values.map((v, j) => ({ ts: startMs + 200 + j * 600, values: [v, 2_100n] }));
      expect((await d.client.sendBatch(inside)).status).toBe("accepted");
      expect(
        (
          await d.client.sendBatch([
            { ts: startMs + EPOCH + 100, values: [1n] },
            { ts: startMs + EPOCH + 300, values: [2n] },
          ])
        ).status,
      ).toBe("accepted");
    }
    const policies: bigint[] = [];
    for (const d of devices)
      policies.push((await d.policy.buy({ deviceId: d.key.deviceId, startMs: BigInt(startMs), epochs: 3 })).policyId);
    // nothing is proven yet: the insurance refuses (it reads the vault, not the gateway)
    await reverted(devices[0]!.policy.claim({ policyId: policies[0]!, epoch }), "ParametricInsurance__FactNotProven");

    await waitFor(
      async () => (await net.store.worker.claimCounts()).paid >= 2 || (await net.store.worker.claimCounts()).failed > 0,
      120_000,
      200,
    );
    expect((await net.store.worker.listClaims(10)).filter((c) => c.state === "failed").map((c) => c.error)).toEqual([]);

    for (const d of devices) {
      const fact = await net.admin.factOf({ imageId, deviceId: d.key.deviceId, epoch });
      expect(fact).toEqual({ proven: true, output: expectedOutput("count_above", threshold, d.values) });
    }
    const [hotDev, mildDev] = devices as [(typeof devices)[0], (typeof devices)[0]];
    const hotBefore = await balance(hotDev.holder.address);
    // the mild device's holder submits for the hot device: the payout still goes to the hot policy's holder
    const paid = await mildDev.policy.claim({ policyId: policies[0]!, epoch });
    expect(paid).toMatchObject({ output: 3n, payout: PAYOUT });
    expect(await balance(hotDev.holder.address)).toBe(hotBefore + PAYOUT);
    await reverted(hotDev.policy.claim({ policyId: policies[0]!, epoch }), "ParametricInsurance__PolicyClosed");
    const miss = await reverted(
      mildDev.policy.claim({ policyId: policies[1]!, epoch }),
      "ParametricInsurance__TriggerNotMet",
    );
    expect([...miss.args]).toEqual([1n, LINE]);
    expect(await mildDev.policy.policyOf(policies[1]!)).toMatchObject({ status: "Active" });

    // premiums in, one payout out, one reserve still held: every DevToken accounted for
    expect(await insurer.reserved()).toBe(PAYOUT);
    expect(await balance(insurer.address)).toBe(2n * PAYOUT + 2n * 21n - PAYOUT);
    expect(await total()).toBe(totalBefore);
  }, 180_000);
});
