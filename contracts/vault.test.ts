/** PayoutVault on real anvil: payouts, facts, and every bad-input path the issue lists. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Contract } from "ethers";
import {
  startDevnet,
  registerMockDevice,
  randomImageId,
  randomDeviceId,
  mockClaim,
  scheduledEpoch as E,
  TEST_GENESIS_MS,
  HOUR_MS,
  type Devnet,
} from "./fixture.ts";
import { revokeKey } from "./devices.ts";
import {
  ContractRevertedError,
  claimSignals,
  mockClaimProof,
  encodeClaimProof,
  getArtifact,
  deployContract,
} from "./index.ts";
import { SNARK_FIELD } from "../device-sdk/index.ts";
import type { MachinefiClient } from "./client.ts";
import { reverted } from "./expect-revert.ts";

let net: Devnet;
let admin: MachinefiClient, alice: MachinefiClient, bob: MachinefiClient;
let imageId: string;
const REWARD = 1_000n;

beforeAll(async () => {
  net = await startDevnet();
  [admin, alice, bob] = net.clients as [MachinefiClient, MachinefiClient, MachinefiClient];
  imageId = randomImageId();
  await admin.registerApplet({ genesisMs: TEST_GENESIS_MS, imageId, verifier: "mock", rewardPerUnit: REWARD });
});
afterAll(() => net?.stop());

describe("PayoutVault.claim", () => {
  it("pays output × rewardPerUnit to the device owner once, records the fact and emits ClaimPaid", async () => {
    const deviceId = await registerMockDevice(alice);
    const before = await alice.balanceOf();
    // bob submits: the reward still goes to the device's owner
    const r = await bob.claim(mockClaim({ imageId, deviceId, epoch: E(42n), output: 17n }));
    expect(r.paid).toMatchObject({ deviceId, epoch: E(42n), output: 17n, reward: 17n * REWARD, owner: alice.address });
    expect(await alice.balanceOf()).toBe(before + 17n * REWARD);
    expect(await bob.balanceOf()).toBe(0n);
    expect(await alice.isClaimed({ imageId, deviceId, epoch: E(42n) })).toBe(true);
    expect(await alice.isClaimed({ imageId, deviceId, epoch: E(43n) })).toBe(false);
    expect(await alice.factOf({ imageId, deviceId, epoch: E(42n) })).toEqual({ proven: true, output: 17n });
    expect(await alice.factOf({ imageId, deviceId, epoch: E(43n) })).toEqual({ proven: false, output: 0n });
  });

  it("records a zero output as a fact and pays nothing", async () => {
    const deviceId = await registerMockDevice(alice);
    const r = await alice.claim(mockClaim({ imageId, deviceId, epoch: E(1n), output: 0n }));
    expect(r.paid.reward).toBe(0n);
    expect(await alice.factOf({ imageId, deviceId, epoch: E(1n) })).toEqual({ proven: true, output: 0n });
    await reverted(
      alice.claim(mockClaim({ imageId, deviceId, epoch: E(1n), output: 0n })),
      "PayoutVault__AlreadyClaimed",
    );
  });

  it("refuses a double claim, even with a different output", async () => {
    const deviceId = await registerMockDevice(alice);
    await alice.claim(mockClaim({ imageId, deviceId, epoch: E(7n), output: 3n }));
    const err = await reverted(
      alice.claim(mockClaim({ imageId, deviceId, epoch: E(7n), output: 4n })),
      "PayoutVault__AlreadyClaimed",
    );
    expect(err.args[1]).toBe(deviceId);
    expect(err.message).toMatch(/already paid/);
  });

  it("refuses an unknown device and a key revoked before the epoch ended", async () => {
    await reverted(
      alice.claim(mockClaim({ imageId, deviceId: randomDeviceId(), epoch: E(1n), output: 1n })),
      "PayoutVault__UnknownDevice",
    );
    const deviceId = await registerMockDevice(alice);
    await revokeKey(alice, { tokenId: deviceId, fromMs: TEST_GENESIS_MS + 2n * HOUR_MS + 1n });
    await reverted(alice.claim(mockClaim({ imageId, deviceId, epoch: E(2n), output: 1n })), "PayoutVault__KeyNotValid");
    await alice.claim(mockClaim({ imageId, deviceId, epoch: E(1n), output: 1n }));
  });

  it("refuses an unknown applet and a paused one (until resumed)", async () => {
    const deviceId = await registerMockDevice(alice);
    const other = randomImageId();
    await reverted(
      alice.claim(mockClaim({ imageId: other, deviceId, epoch: E(1n), output: 1n })),
      "PayoutVault__UnknownApplet",
    );
    await admin.registerApplet({
      genesisMs: TEST_GENESIS_MS,
      imageId: other,
      verifier: "mock",
      rewardPerUnit: 1n,
      owner: bob.address,
    });
    await bob.setAppletPaused({ imageId: other, paused: true });
    await reverted(
      alice.claim(mockClaim({ imageId: other, deviceId, epoch: E(1n), output: 1n })),
      "PayoutVault__AppletPaused",
    );
    await bob.setAppletPaused({ imageId: other, paused: false });
    expect((await alice.claim(mockClaim({ imageId: other, deviceId, epoch: E(1n), output: 1n }))).paid.reward).toBe(1n);
  });

  it("refuses an invalid proof and a malformed one", async () => {
    const deviceId = await registerMockDevice(alice);
    const good = mockClaim({ imageId, deviceId, epoch: E(9n), output: 5n });
    const bad = { ...good, proof: { ...good.proof, a: [good.proof.a[0] ^ 1n, 0n] as const } };
    await reverted(alice.claim(bad), "PayoutVault__InvalidProof");
    await reverted(alice.claim({ ...good, proof: "0x1234" }), "PayoutVault__InvalidProof");
    const err = await reverted(
      alice.claim({ ...good, proof: { ...good.proof, k: 32 } }),
      "PayoutVault__NoVerifierForSize",
    );
    expect(err.args[1]).toBe(32n);
    expect(await alice.isClaimed({ imageId, deviceId, epoch: E(9n) })).toBe(false);
  });

  it("refuses a proof whose public values were tampered with (output, epoch, device, applet)", async () => {
    const deviceId = await registerMockDevice(alice);
    const otherDevice = await registerMockDevice(alice);
    const otherApplet = randomImageId();
    await admin.registerApplet({
      genesisMs: TEST_GENESIS_MS,
      imageId: otherApplet,
      verifier: "mock",
      rewardPerUnit: REWARD,
    });
    const good = mockClaim({ imageId, deviceId, epoch: E(11n), output: 5n });
    await reverted(alice.claim({ ...good, output: 500n }), "PayoutVault__InvalidProof");
    await reverted(alice.claim({ ...good, epoch: E(12n) }), "PayoutVault__InvalidProof");
    await reverted(alice.claim({ ...good, deviceId: otherDevice }), "PayoutVault__InvalidProof");
    await reverted(alice.claim({ ...good, imageId: otherApplet }), "PayoutVault__InvalidProof");
    await alice.claim(good); // the untampered claim still pays
  });

  it("refuses public values outside the field (they would alias inside the circuit)", async () => {
    const deviceId = await registerMockDevice(alice);
    const c = mockClaim({ imageId, deviceId, epoch: 3n + SNARK_FIELD, output: 1n });
    const err = await reverted(alice.claim(c), "PayoutVault__ValueOutOfField");
    expect(err.args[0]).toBe(3n + SNARK_FIELD);
    await reverted(
      alice.claim(mockClaim({ imageId, deviceId, epoch: E(3n), output: SNARK_FIELD })),
      "PayoutVault__ValueOutOfField",
    );
  });

  it("appends the reducer parameter to the public signals", async () => {
    const deviceId = await registerMockDevice(alice);
    const withParam = randomImageId();
    await admin.registerApplet({
      genesisMs: TEST_GENESIS_MS,
      imageId: withParam,
      verifier: "mock",
      rewardPerUnit: 2n,
      param: 250n,
    });
    const base = { imageId: withParam, deviceId, epoch: E(5n), output: 6n };
    await reverted(alice.claim(mockClaim(base)), "PayoutVault__InvalidProof");
    await reverted(alice.claim(mockClaim({ ...base, param: 251n })), "PayoutVault__InvalidProof");
    expect((await alice.claim(mockClaim({ ...base, param: 250n }))).paid.reward).toBe(12n);
  });

  it("refuses a reward that overflows", async () => {
    const deviceId = await registerMockDevice(alice);
    const rich = randomImageId();
    await admin.registerApplet({
      genesisMs: TEST_GENESIS_MS,
      imageId: rich,
      verifier: "mock",
      rewardPerUnit: (1n << 80n) - 1n,
    });
    await reverted(
      alice.claim(mockClaim({ imageId: rich, deviceId, epoch: E(1n), output: SNARK_FIELD - 1n })),
      "PayoutVault__RewardOverflow",
    );
  });

  it("names a verifier that runs out of gas", async () => {
    const deviceId = await registerMockDevice(alice);
    const burner = await deployContract(net.clients[0]!.contracts.vault.runner as never, "GasBurnerVerifier");
    const burnt = randomImageId();
    await admin.registerApplet({
      genesisMs: TEST_GENESIS_MS,
      imageId: burnt,
      verifier: { verifiers: { 16: burner } },
      rewardPerUnit: 1n,
    });
    // points at infinity are on the curve, so exhausting the gas cannot be blamed on a malformed proof
    const zero = {
      k: 16,
      a: [0n, 0n],
      b: [
        [0n, 0n],
        [0n, 0n],
      ],
      c: [0n, 0n],
    } as const;
    const c = { imageId: burnt, deviceId, epoch: E(1n), output: 1n, proof: zero };
    const err = await reverted(alice.claim(c, { gasLimit: 3_000_000n }), "PayoutVault__VerifierOutOfGas");
    expect(err.args[1]).toBeGreaterThan(900_000n); // it was given the full cap
    // with a low gas limit the cap cannot be reached, and it is still named out of gas rather than paid
    await reverted(alice.claim(c, { gasLimit: 200_000n }), "PayoutVault__VerifierOutOfGas");
    expect(await alice.isClaimed({ imageId: burnt, deviceId, epoch: E(1n) })).toBe(false);
  });

  it("blocks a reentrant token hook", async () => {
    const wallet = admin.contracts.vault.runner as never;
    const minter = await deployContract(wallet, "ReentrantMinter");
    const m = net.manifest.contracts;
    const vault2 = await deployContract(wallet, "PayoutVault", [m.DeviceRegistry, m.AppletRegistry, minter]);
    const deviceId = await registerMockDevice(alice);
    const first = mockClaim({ imageId, deviceId, epoch: E(1n), output: 1n });
    const second = mockClaim({ imageId, deviceId, epoch: E(2n), output: 1n });
    const hook = new Contract(minter, getArtifact("ReentrantMinter").abi as never, wallet);
    await (await hook.getFunction("arm")(vault2, imageId, deviceId, E(2n), 1n, encodeClaimProof(second.proof))).wait();
    const v2 = new Contract(vault2, getArtifact("PayoutVault").abi as never, wallet);
    const err = await v2
      .getFunction("claim")
      .staticCall(imageId, deviceId, E(1n), 1n, encodeClaimProof(first.proof))
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    const { toContractsError } = await import("./revert.ts");
    const decoded = toContractsError(err, "claim");
    expect(decoded).toBeInstanceOf(ContractRevertedError);
    expect((decoded as ContractRevertedError).errorName).toBe("ReentrancyGuardReentrantCall");
    expect(await v2.getFunction("isClaimed")(imageId, deviceId, E(1n))).toBe(false);
  });
});

describe("PayoutVault.claimBatch", () => {
  it("pays every claim of a batch", async () => {
    const devices = [await registerMockDevice(alice), await registerMockDevice(bob)];
    const before = [await alice.balanceOf(), await bob.balanceOf()];
    const r = await admin.claimBatch([
      mockClaim({ imageId, deviceId: devices[0]!, epoch: E(100n), output: 2n }),
      mockClaim({ imageId, deviceId: devices[1]!, epoch: E(100n), output: 3n }),
      mockClaim({ imageId, deviceId: devices[0]!, epoch: E(101n), output: 4n }),
    ]);
    expect(r.paid.map((p) => p.reward)).toEqual([2n * REWARD, 3n * REWARD, 4n * REWARD]);
    expect(await alice.balanceOf()).toBe(before[0]! + 6n * REWARD);
    expect(await bob.balanceOf()).toBe(before[1]! + 3n * REWARD);
  });

  it("reverts the whole batch naming the bad item and its reason", async () => {
    const deviceId = await registerMockDevice(alice);
    const before = await alice.balanceOf();
    const items = [1n, 2n, 3n].map((epoch) => mockClaim({ imageId, deviceId, epoch: E(200n + epoch), output: 1n }));
    const tampered = { ...items[2]!, output: 99n };
    const err = await reverted(admin.claimBatch([items[0]!, items[1]!, tampered]), "PayoutVault__BatchItemFailed");
    expect(err.args[0]).toBe(2n);
    expect(err.inner?.errorName).toBe("PayoutVault__InvalidProof");
    const offSchedule = await reverted(
      admin.claimBatch([items[0]!, mockClaim({ imageId, deviceId, epoch: E(209n) + 1n, output: 1n })]),
      "PayoutVault__BatchItemFailed",
    );
    expect(offSchedule.args[0]).toBe(1n);
    expect(offSchedule.inner?.errorName).toBe("PayoutVault__WrongEpochLength");
    await reverted(admin.claimBatch([]), "PayoutVault__EmptyBatch");
    expect(await alice.balanceOf()).toBe(before);
    expect(await alice.isClaimed({ imageId, deviceId, epoch: E(201n) })).toBe(false);
  });

  it("skips an item someone already paid (front-running one item) with ClaimSkipped and pays the rest", async () => {
    const deviceId = await registerMockDevice(alice);
    const items = [1n, 2n, 3n].map((i) => mockClaim({ imageId, deviceId, epoch: E(300n + i), output: i }));
    await bob.claim(items[1]!); // the front-runner copies item 1 from the mempool
    const before = await alice.balanceOf();
    const r = await admin.claimBatch(items);
    expect(r.paid.map((p) => p.epoch)).toEqual([E(301n), E(303n)]);
    expect(await alice.balanceOf()).toBe(before + 4n * REWARD);
    const skipped = r.skipped;
    expect(skipped).toEqual([{ imageId: imageId.toLowerCase(), deviceId, epoch: E(302n) }]);
    // a duplicate inside one batch is skipped the same way, and a batch of only spent items pays nothing
    const again = await admin.claimBatch([items[0]!, items[0]!]);
    expect(again.paid).toEqual([]);
    expect(again.skipped).toHaveLength(2);
  });
});

it("claimSignals matches what the vault rebuilds (a proof over them is accepted)", async () => {
  const deviceId = await registerMockDevice(alice);
  const signals = claimSignals({ imageId, deviceId, epoch: E(77n), output: 1n });
  expect(signals[0]).toBe(BigInt(imageId) % SNARK_FIELD);
  await alice.claim({ imageId, deviceId, epoch: E(77n), output: 1n, proof: mockClaimProof(signals, 64) });
});
