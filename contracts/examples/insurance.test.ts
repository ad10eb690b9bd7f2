/** The example consumer ParametricInsurance on real anvil (MockVerifier facts): payouts from proven facts only, every refusal, balances. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Contract } from "ethers";
import { startDevnet, registerMockDevice, randomImageId, mockClaim, TEST_GENESIS_MS, type Devnet } from "../fixture.ts";
import { getArtifact, mintDevToken, type MachinefiClient } from "../index.ts";
import {
  createInsuranceClient,
  deployInsurance,
  Trigger,
  type InsuranceClient,
  type InsuranceTerms,
} from "./insurance.ts";
import { reverted } from "../expect-revert.ts";

let net: Devnet;
let admin: MachinefiClient, alice: MachinefiClient, bob: MachinefiClient;
let imageId: string, otherImageId: string;
let token: Contract;
const PARAM = 300n; // threshold-alert's threshold: facts count readings above 30.0 °C
const MINUTE = 60_000n;
const terms = (o: Partial<InsuranceTerms> = {}): InsuranceTerms => ({
  imageId,
  trigger: Trigger.AtLeast,
  line: 3n,
  epochLengthMs: MINUTE,
  premiumPerEpoch: 10n,
  payout: 1_000n,
  maxEpochs: 24,
  claimWindow: 3_600n,
  ...o,
});
const epochOf = (startMs: bigint, lengthMs = MINUTE) => (startMs << 32n) | lengthMs;
const balance = (who: string) => token.getFunction("balanceOf")(who) as Promise<bigint>;

async function chainNowMs(): Promise<bigint> {
  return BigInt((await admin.provider.getBlock("latest"))!.timestamp) * 1000n;
}
/** A cover start on the applets' one-minute schedule, at least `leadMs` ahead of chain time. */
async function nextStart(leadMs = 10_000n): Promise<bigint> {
  const t = (await chainNowMs()) + leadMs;
  return t - (t % MINUTE) + MINUTE;
}
/** Moves chain time to `ms` (PayoutVault pays an epoch only once it has ended). */
async function passTo(ms: bigint): Promise<void> {
  const s = Number((ms + 999n) / 1000n);
  if (BigInt(s) * 1000n <= (await chainNowMs())) return;
  await admin.provider.send("evm_setNextBlockTimestamp", [s]);
  await admin.provider.send("evm_mine", []);
}
/** A pool underwritten by admin with `capital` DevToken, plus clients for alice and bob. */
async function pool(
  capital: bigint,
  t = terms(),
): Promise<{ address: string; uw: InsuranceClient; a: InsuranceClient; b: InsuranceClient }> {
  const address = await deployInsurance(admin, {
    token: admin.manifest.contracts.DevToken!,
    terms: t,
    expectedParam: PARAM,
  });
  const uw = createInsuranceClient(admin, address);
  await mintDevToken(admin, capital);
  await uw.fund(capital);
  return { address, uw, a: createInsuranceClient(alice, address), b: createInsuranceClient(bob, address) };
}
const prove = (deviceId: bigint, epoch: bigint, output: bigint, image = imageId) =>
  bob.claim(mockClaim({ imageId: image, deviceId, epoch, output, param: PARAM }));

beforeAll(async () => {
  net = await startDevnet();
  [admin, alice, bob] = net.clients as [MachinefiClient, MachinefiClient, MachinefiClient];
  [imageId, otherImageId] = [randomImageId(), randomImageId()];
  for (const id of [imageId, otherImageId])
    await admin.registerApplet({
      imageId: id,
      verifier: "mock",
      rewardPerUnit: 1n,
      param: PARAM,
      epochLengthMs: MINUTE,
      genesisMs: TEST_GENESIS_MS,
    });
  token = new Contract(admin.manifest.contracts.DevToken!, getArtifact("DevToken").abi as never, admin.provider);
  for (const c of [alice, bob]) await mintDevToken(c, 1_000n);
});
afterAll(() => net?.stop());

describe("ParametricInsurance (example consumer of PayoutVault facts)", () => {
  it("pays the holder once when the proven output crosses the line, and every token is accounted for", async () => {
    const { address, uw, a, b } = await pool(5_000n);
    const device = await registerMockDevice(alice);
    const holders = [admin.address, alice.address, bob.address, address];
    const total = async () => (await Promise.all(holders.map(balance))).reduce((x, y) => x + y, 0n);
    const before = { total: await total(), alice: await balance(alice.address), pool: await balance(address) };
    const startMs = await nextStart();
    const bought = await a.buy({ deviceId: device, startMs, epochs: 2 });
    expect(bought).toMatchObject({ premium: 20n, endMs: startMs + 2n * MINUTE });
    expect(await uw.reserved()).toBe(1_000n);
    expect(await uw.freeCapital()).toBe(5_000n + 20n - 1_000n);

    const [e1, e2] = [epochOf(startMs), epochOf(startMs + MINUTE)];
    const f = await reverted(b.claim({ policyId: bought.policyId, epoch: e2 }), "ParametricInsurance__FactNotProven");
    expect(f.args[1]).toBe(device);
    await passTo(startMs + 2n * MINUTE);
    await prove(device, e1, 2n);
    const t = await reverted(b.claim({ policyId: bought.policyId, epoch: e1 }), "ParametricInsurance__TriggerNotMet");
    expect([...t.args]).toEqual([2n, 3n]);
    await prove(device, e2, 5n);
    // bob sends the claim; the payout still goes to the holder
    const paid = await b.claim({ policyId: bought.policyId, epoch: e2 });
    expect(paid).toMatchObject({ output: 5n, payout: 1_000n });
    expect(await balance(alice.address)).toBe(before.alice - 20n + 1_000n);
    expect(await a.policyOf(bought.policyId)).toMatchObject({
      status: "PaidOut",
      holder: alice.address,
      deviceId: device,
    });
    await reverted(a.claim({ policyId: bought.policyId, epoch: e2 }), "ParametricInsurance__PolicyClosed");
    await reverted(a.claim({ policyId: bought.policyId, epoch: e1 }), "ParametricInsurance__PolicyClosed");
    expect(await uw.reserved()).toBe(0n);
    expect(await balance(address)).toBe(before.pool + 20n - 1_000n);
    expect(await total()).toBe(before.total);
  });

  it("reads only its own applet's facts: a crossing fact of another applet pays nothing", async () => {
    const { a } = await pool(1_000n);
    const device = await registerMockDevice(alice);
    const startMs = await nextStart();
    const { policyId } = await a.buy({ deviceId: device, startMs, epochs: 1 });
    await passTo(startMs + MINUTE);
    await prove(device, epochOf(startMs), 9n, otherImageId);
    const err = await reverted(a.claim({ policyId, epoch: epochOf(startMs) }), "ParametricInsurance__FactNotProven");
    expect(err.args[0]).toBe(imageId);
  });

  it("refuses an applet that is unknown or bound to another parameter, and bad terms", async () => {
    const token_ = admin.manifest.contracts.DevToken!;
    await reverted(
      deployInsurance(admin, { token: token_, terms: terms(), expectedParam: 250n }),
      "ParametricInsurance__WrongApplet",
    );
    await reverted(
      deployInsurance(admin, { token: token_, terms: terms({ imageId: randomImageId() }), expectedParam: PARAM }),
      "ParametricInsurance__WrongApplet",
    );
    for (const bad of [{ payout: 0n }, { epochLengthMs: 0n }, { epochLengthMs: 1n << 32n }, { maxEpochs: 0 }]) {
      await reverted(
        deployInsurance(admin, { token: token_, terms: terms(bad), expectedParam: PARAM }),
        "ParametricInsurance__BadTerms",
      );
    }
  });

  it("refuses epochs of another length or outside the cover, even when proven and crossing", async () => {
    const { a } = await pool(1_000n);
    const device = await registerMockDevice(alice);
    const startMs = await nextStart(120_000n);
    const { policyId } = await a.buy({ deviceId: device, startMs, epochs: 1 });
    await passTo(startMs + 2n * MINUTE);
    // facts the vault holds (on the applet's one-minute schedule) for epochs this policy does not cover
    for (const epoch of [epochOf(startMs - MINUTE), epochOf(startMs + MINUTE)]) {
      await prove(device, epoch, 50n);
      await reverted(a.claim({ policyId, epoch }), "ParametricInsurance__EpochNotCovered");
    }
    for (const epoch of [epochOf(startMs, MINUTE * 2n), epochOf(startMs, MINUTE / 2n), epochOf(startMs + 1n)]) {
      await reverted(a.claim({ policyId, epoch }), "ParametricInsurance__EpochNotCovered");
    }
    await reverted(a.claim({ policyId: 999n, epoch: epochOf(startMs) }), "ParametricInsurance__UnknownPolicy");
  });

  it("insurance: a window slid off the policy's start reverts ParametricInsurance__EpochNotCovered", async () => {
    // Cover from half a minute past the applet's schedule: the only facts the vault holds inside the cover are for
    // windows slid 30 s off the policy's epochs. Before alignment was required, the holder claimed the best of them.
    const { a } = await pool(1_000n);
    const device = await registerMockDevice(alice);
    const startMs = (await nextStart()) + MINUTE / 2n;
    const { policyId } = await a.buy({ deviceId: device, startMs, epochs: 2 });
    const slid = epochOf(startMs + MINUTE / 2n);
    await passTo(startMs + 2n * MINUTE);
    await prove(device, slid, 50n);
    await reverted(a.claim({ policyId, epoch: slid }), "ParametricInsurance__EpochNotCovered");
    expect(await a.policyOf(policyId)).toMatchObject({ status: "Active" });
  });

  it("refuses cover bought for the past, of 0 or too many epochs, or beyond the capital", async () => {
    const { a, b } = await pool(1_500n);
    const device = await registerMockDevice(alice);
    const now = await chainNowMs();
    await reverted(
      a.buy({ deviceId: device, startMs: now - 1_000n, epochs: 1 }),
      "ParametricInsurance__CoverStartsInPast",
    );
    await reverted(a.buy({ deviceId: device, startMs: now + 10_000n, epochs: 0 }), "ParametricInsurance__BadCover");
    await reverted(a.buy({ deviceId: device, startMs: now + 10_000n, epochs: 25 }), "ParametricInsurance__BadCover");
    await a.buy({ deviceId: device, startMs: now + 10_000n, epochs: 1 });
    const err = await reverted(
      b.buy({ deviceId: device, startMs: now + 10_000n, epochs: 1 }),
      "ParametricInsurance__InsufficientCapital",
    );
    expect([...err.args]).toEqual([510n, 1_000n]);
  });

  it("pays an AtMost policy only at or below the floor (energy-sum style)", async () => {
    const { a } = await pool(2_000n, terms({ trigger: Trigger.AtMost, line: 100n }));
    const device = await registerMockDevice(alice);
    const startMs = await nextStart();
    const { policyId } = await a.buy({ deviceId: device, startMs, epochs: 2 });
    await passTo(startMs + 2n * MINUTE);
    await prove(device, epochOf(startMs), 101n);
    await reverted(a.claim({ policyId, epoch: epochOf(startMs) }), "ParametricInsurance__TriggerNotMet");
    await prove(device, epochOf(startMs + MINUTE), 100n);
    expect((await a.claim({ policyId, epoch: epochOf(startMs + MINUTE) })).payout).toBe(1_000n);
  });

  // moves chain time forward: keep last
  it("expires: no claim after the window, the reserve is released, the underwriter withdraws everything, nothing stuck", async () => {
    const { address, uw, a, b } = await pool(1_000n);
    const device = await registerMockDevice(alice);
    const startMs = await nextStart();
    const { policyId } = await a.buy({ deviceId: device, startMs, epochs: 1 });
    await passTo(startMs + MINUTE);
    await prove(device, epochOf(startMs), 7n);
    await reverted(b.release(policyId), "ParametricInsurance__StillClaimable");
    await reverted(uw.withdraw(11n), "ParametricInsurance__WithdrawTooMuch"); // free: 1,000 capital + 10 premium − 1,000 reserved
    await reverted(b.withdraw(1n), "ParametricInsurance__NotUnderwriter");
    const deadline = (await uw.contract.getFunction("claimDeadline")(policyId)) as bigint;
    await admin.provider.send("evm_setNextBlockTimestamp", [Number(deadline) + 1]);
    await admin.provider.send("evm_mine", []);
    await reverted(a.claim({ policyId, epoch: epochOf(startMs) }), "ParametricInsurance__PolicyExpired");
    await b.release(policyId);
    expect(await a.policyOf(policyId)).toMatchObject({ status: "Released" });
    await reverted(b.release(policyId), "ParametricInsurance__PolicyClosed");
    await reverted(a.claim({ policyId, epoch: epochOf(startMs) }), "ParametricInsurance__PolicyClosed");
    expect(await uw.reserved()).toBe(0n);
    const adminBefore = await balance(admin.address);
    await uw.withdraw(1_010n);
    expect(await balance(address)).toBe(0n);
    expect(await balance(admin.address)).toBe(adminBefore + 1_010n);
    const logs = async (name: string) =>
      (await uw.contract.queryFilter(uw.contract.filters[name]!())).map((l) => [
        ...(l as unknown as { args: unknown[] }).args,
      ]);
    expect(await logs("CapitalAdded")).toEqual([[admin.address, 1_000n]]);
    expect(await logs("PolicyBought")).toEqual([[policyId, alice.address, device, startMs, startMs + MINUTE, 10n]]);
    expect(await logs("PolicyReleased")).toEqual([[policyId]]);
    expect(await logs("CapitalWithdrawn")).toEqual([[admin.address, 1_010n]]);
    expect(await logs("PolicyPaidOut")).toEqual([]);
  });
});
