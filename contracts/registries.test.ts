/** DeviceRegistry, AppletRegistry and RewardToken on real anvil: registration proofs, roles, owner-only calls. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  startDevnet,
  registerMockDevice,
  randomImageId,
  randomDeviceId,
  mockClaim,
  scheduledEpoch,
  TEST_GENESIS_MS,
  type Devnet,
} from "./fixture.ts";
import { ContractRevertedError, mockRegisterProof, registerSignals } from "./index.ts";
import { SNARK_FIELD } from "../device-sdk/index.ts";
import type { MachinefiClient } from "./client.ts";
import { reverted } from "./expect-revert.ts";

let net: Devnet;
let admin: MachinefiClient, alice: MachinefiClient, bob: MachinefiClient;

function proofFor(
  c: MachinefiClient,
  deviceId: bigint,
  over: Partial<{ owner: string; chainId: bigint; registry: string }> = {},
) {
  return mockRegisterProof(
    registerSignals({
      deviceId,
      owner: over.owner ?? c.address,
      chainId: over.chainId ?? BigInt(c.chainId),
      registry: over.registry ?? c.manifest.contracts.DeviceRegistry,
    }),
  );
}

beforeAll(async () => {
  net = await startDevnet();
  [admin, alice, bob] = net.clients as [MachinefiClient, MachinefiClient, MachinefiClient];
});
afterAll(() => net?.stop());

describe("DeviceRegistry", () => {
  it("registers a device with a proof bound to (owner, chainId, registry); a relayer may submit it", async () => {
    const deviceId = randomDeviceId();
    await bob.registerDevice({ deviceId, owner: alice.address, proof: proofFor(alice, deviceId) });
    expect(await bob.deviceOf(deviceId)).toEqual({ owner: alice.address, active: true });
  });

  it("refuses a proof for another owner, chain or registry", async () => {
    const deviceId = randomDeviceId();
    // a proof made for alice cannot register the device to bob
    await reverted(bob.registerDevice({ deviceId, proof: proofFor(alice, deviceId) }), "DeviceRegistry__InvalidProof");
    await reverted(
      alice.registerDevice({ deviceId, proof: proofFor(alice, deviceId, { chainId: 4690n }) }),
      "DeviceRegistry__InvalidProof",
    );
    await reverted(
      alice.registerDevice({ deviceId, proof: proofFor(alice, deviceId, { registry: bob.address }) }),
      "DeviceRegistry__InvalidProof",
    );
    await reverted(
      alice.registerDevice({ deviceId, proof: proofFor(alice, deviceId + 1n) }),
      "DeviceRegistry__InvalidProof",
    );
    expect((await alice.deviceOf(deviceId)).owner).toBe("0x0000000000000000000000000000000000000000");
  });

  it("refuses a second registration, a zero or out-of-field deviceId and a zero owner", async () => {
    const deviceId = await registerMockDevice(alice);
    await reverted(
      alice.registerDevice({ deviceId, proof: proofFor(alice, deviceId) }),
      "DeviceRegistry__AlreadyRegistered",
    );
    await reverted(
      alice.registerDevice({ deviceId: 0n, proof: proofFor(alice, 0n) }),
      "DeviceRegistry__InvalidDeviceId",
    );
    await reverted(
      alice.registerDevice({ deviceId: SNARK_FIELD, proof: proofFor(alice, SNARK_FIELD) }),
      "DeviceRegistry__InvalidDeviceId",
    );
    const zero = "0x0000000000000000000000000000000000000000";
    await reverted(
      alice.registerDevice({ deviceId: 5n, owner: zero, proof: proofFor(alice, 5n, { owner: zero }) }),
      "DeviceRegistry__ZeroOwner",
    );
  });

  it("lets a maker register a batch; others are refused", async () => {
    const ids = Array.from({ length: 5 }, randomDeviceId);
    await admin.registerDevicesBatch({
      deviceIds: ids,
      owners: ids.map((_, i) => (i % 2 ? alice.address : bob.address)),
    });
    expect((await admin.deviceOf(ids[1]!)).owner).toBe(alice.address);
    expect((await admin.deviceOf(ids[4]!)).owner).toBe(bob.address);
    const err = await reverted(
      alice.registerDevicesBatch({ deviceIds: [randomDeviceId()], owners: alice.address }),
      "DeviceRegistry__NotMaker",
    );
    expect(err.args[0]).toBe(alice.address);
    await reverted(
      admin.registerDevicesBatch({ deviceIds: [randomDeviceId()], owners: alice.address, model: 7 }),
      "DeviceRegistry__UnknownModel",
    );
    await reverted(
      admin.registerDevicesBatch({ deviceIds: [randomDeviceId(), randomDeviceId()], owners: [alice.address] }),
      "DeviceRegistry__LengthMismatch",
    );
    // one already-registered id fails the whole batch
    const fresh = randomDeviceId();
    await reverted(
      admin.registerDevicesBatch({ deviceIds: [fresh, ids[0]!], owners: alice.address }),
      "DeviceRegistry__AlreadyRegistered",
    );
    expect((await admin.deviceOf(fresh)).owner).toBe("0x0000000000000000000000000000000000000000");
  });

  it("transfers a device token (rewards follow the new owner); only the owner or an approved account may", async () => {
    const deviceId = await registerMockDevice(alice);
    const zero = "0x0000000000000000000000000000000000000000";
    await reverted(bob.transferDevice({ deviceId, to: bob.address }), "ERC721InsufficientApproval");
    const steal = bob.sendTx(bob.contracts.devices, "transferFrom", [alice.address, bob.address, deviceId]);
    await reverted(steal, "ERC721InsufficientApproval");
    const wrongFrom = alice.sendTx(alice.contracts.devices, "transferFrom", [bob.address, alice.address, deviceId]);
    await reverted(wrongFrom, "ERC721IncorrectOwner");
    await reverted(alice.transferDevice({ deviceId: randomDeviceId(), to: bob.address }), "ERC721NonexistentToken");
    await reverted(alice.transferDevice({ deviceId, to: zero }), "ERC721InvalidReceiver");
    await alice.transferDevice({ deviceId, to: bob.address });
    expect(await bob.contracts.devices.getFunction("ownerOf")(deviceId)).toBe(bob.address);
    const imageId = randomImageId();
    await admin.registerApplet({ imageId, verifier: "mock", rewardPerUnit: 5n, genesisMs: TEST_GENESIS_MS });
    const before = await bob.balanceOf();
    await alice.claim(mockClaim({ imageId, deviceId, epoch: scheduledEpoch(1n), output: 2n }));
    expect(await bob.balanceOf()).toBe(before + 10n);
    // an approved account moves it back (what a marketplace or lending protocol does)
    await bob.sendTx(bob.contracts.devices, "approve", [admin.address, deviceId]);
    await admin.sendTx(admin.contracts.devices, "transferFrom", [bob.address, alice.address, deviceId]);
    expect(await admin.deviceOf(deviceId)).toEqual({ owner: alice.address, active: true });
    expect(await alice.contracts.devices.getFunction("getApproved")(deviceId)).toBe(zero);
  });
});

describe("AppletRegistry", () => {
  it("registers an applet version and keeps it; the same imageId cannot be registered twice", async () => {
    const imageId = randomImageId();
    await admin.registerApplet({
      imageId,
      verifier: "mock",
      rewardPerUnit: 3n,
      owner: alice.address,
      param: 9n,
      epochLengthMs: 60_000n,
      genesisMs: TEST_GENESIS_MS,
    });
    expect(await admin.appletOf(imageId)).toEqual({
      rewardPerUnit: 3n,
      paused: false,
      hasParam: true,
      epochLengthMs: 60_000n,
      genesisMs: TEST_GENESIS_MS,
      anyDevice: true,
      batched: false,
      owner: alice.address,
      param: 9n,
    });
    expect(await admin.verifierOf({ imageId, k: 64 })).toBe(net.manifest.contracts.MockVerifier);
    expect(await admin.verifierOf({ imageId, k: 32 })).toBe("0x0000000000000000000000000000000000000000");
    await reverted(
      admin.registerApplet({ imageId, verifier: "mock", rewardPerUnit: 1n }),
      "AppletRegistry__AlreadyRegistered",
    );
  });

  it("refuses registration by non-registrars and bad registrations", async () => {
    await reverted(
      alice.registerApplet({ imageId: randomImageId(), verifier: "mock", rewardPerUnit: 1n }),
      "AccessControlUnauthorizedAccount",
    );
    await reverted(
      admin.registerApplet({
        imageId: randomImageId(),
        verifier: { verifiers: { 16: alice.address } },
        rewardPerUnit: 1n,
      }),
      "AppletRegistry__InvalidVerifier",
    );
    const mock = net.manifest.contracts.MockVerifier!;
    await reverted(
      admin.registerApplet({ imageId: randomImageId(), verifier: { verifiers: {} }, rewardPerUnit: 1n }),
      "AppletRegistry__BadSizes",
    );
    await reverted(
      admin.registerApplet({ imageId: randomImageId(), verifier: { verifiers: { 0: mock } }, rewardPerUnit: 1n }),
      "AppletRegistry__BadSizes",
    );
    await reverted(
      admin.registerApplet({ imageId: randomImageId(), verifier: "mock", rewardPerUnit: 1n << 80n }),
      "AppletRegistry__RewardTooLarge",
    );
    await reverted(
      admin.registerApplet({ imageId: randomImageId(), verifier: "mock", rewardPerUnit: 1n, param: SNARK_FIELD }),
      "AppletRegistry__ParamOutOfField",
    );
    await reverted(
      admin.registerApplet({
        imageId: randomImageId(),
        verifier: "mock",
        rewardPerUnit: 1n,
        owner: "0x0000000000000000000000000000000000000000",
      }),
      "AppletRegistry__ZeroOwner",
    );
  });

  it("lets only the owner (or a registrar) pause, only the owner transfer, only a registrar change rewards", async () => {
    const imageId = randomImageId();
    await admin.registerApplet({ imageId, verifier: "mock", rewardPerUnit: 3n, owner: alice.address });
    await reverted(bob.setAppletPaused({ imageId, paused: true }), "AppletRegistry__NotAppletOwner");
    await alice.setAppletPaused({ imageId, paused: true });
    await reverted(alice.setAppletPaused({ imageId, paused: true }), "AppletRegistry__PausedUnchanged");
    await admin.setAppletPaused({ imageId, paused: false });
    await reverted(alice.setRewardPerUnit({ imageId, rewardPerUnit: 1_000_000n }), "AccessControlUnauthorizedAccount");
    await admin.setRewardPerUnit({ imageId, rewardPerUnit: 4n });
    await reverted(bob.transferApplet({ imageId, to: bob.address }), "AppletRegistry__NotAppletOwner");
    await reverted(admin.transferApplet({ imageId, to: bob.address }), "AppletRegistry__NotAppletOwner");
    await alice.transferApplet({ imageId, to: bob.address });
    await bob.setAppletPaused({ imageId, paused: true });
    await reverted(alice.setAppletPaused({ imageId, paused: false }), "AppletRegistry__NotAppletOwner");
    await bob.transferApplet({ imageId, to: alice.address });
    await alice.setAppletPaused({ imageId, paused: false });
    await reverted(admin.setAppletPaused({ imageId: randomImageId(), paused: true }), "AppletRegistry__UnknownApplet");
    expect(await admin.appletOf(imageId)).toMatchObject({ rewardPerUnit: 4n, paused: false, owner: alice.address });
  });
});

describe("RewardToken", () => {
  it("only the vault mints", async () => {
    const mint = alice.contracts.token.getFunction("mint")(alice.address, 1n);
    const { toContractsError } = await import("./revert.ts");
    const err = toContractsError(
      await mint.then(
        () => undefined,
        (e: unknown) => e,
      ),
      "mint",
    );
    expect(err).toBeInstanceOf(ContractRevertedError);
    expect((err as ContractRevertedError).errorName).toBe("AccessControlUnauthorizedAccount");
  });
});
