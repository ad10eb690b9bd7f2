/**
 * Devices as assets on real anvil (issue 20): maker-attested registration, ERC-721 transfers that move the payouts,
 * key rotation and revocation, and every attack the issue names.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Wallet } from "ethers";
import {
  startDevnet,
  registerMockDevice,
  randomImageId,
  randomDeviceId,
  mockClaim,
  scheduledEpoch,
  TEST_GENESIS_MS,
  HOUR_MS,
  type Devnet,
} from "./fixture.ts";
import { deployContract, mockRegisterProof, registerSignals } from "./index.ts";
import type { MachinefiClient } from "./client.ts";
import { reverted } from "./expect-revert.ts";
import {
  addModel,
  admitMaker,
  attestationDomain,
  ATTESTATION_TYPES,
  deviceMetadata,
  keyOf,
  makerOf,
  ownerOf,
  registerAttested,
  revokeKey,
  rotateKey,
  signAttestation,
  tokenOfKey,
  type DeviceAttestation,
} from "./devices.ts";
import { createMarketClient, mintDevToken } from "./market.ts";
import { packEpoch } from "../device-sdk/index.ts";

let net: Devnet;
let admin: MachinefiClient, alice: MachinefiClient, bob: MachinefiClient, maker: MachinefiClient;
let makerId: number;
/** Pays devices of maker 1 (the deployer, "machinefi dev") and of `maker` only. */
let makersOnly: string;
/** Pays any device (an open network). */
let open: string;
/** Pays devices of `maker`, in one-minute epochs. */
let minutely: string;
const MINUTE_MS = 60_000n;

/** A register-circuit proof (MockVerifier) that `keyId` signed (owner, chainId, registry). */
function keyProof(c: MachinefiClient, keyId: bigint, owner = c.address) {
  return mockRegisterProof(
    registerSignals({
      deviceId: keyId,
      owner,
      chainId: BigInt(c.chainId),
      registry: c.manifest.contracts.DeviceRegistry,
    }),
  );
}

async function chainNowMs(): Promise<bigint> {
  const block = await admin.provider.getBlock("latest");
  return BigInt(block!.timestamp) * 1000n;
}

async function advance(seconds: number): Promise<void> {
  await admin.provider.send("evm_increaseTime", [seconds]);
  await admin.provider.send("evm_mine", []);
}

/** A one-minute epoch of the minute schedule (genesis TEST_GENESIS_MS). */
const minuteEpoch = (startMs: bigint) => packEpoch({ startMs, lengthMs: MINUTE_MS });

beforeAll(async () => {
  net = await startDevnet({ clients: 5 });
  [admin, alice, bob, maker] = net.clients as [MachinefiClient, MachinefiClient, MachinefiClient, MachinefiClient];
  ({ makerId } = await admitMaker(admin, { account: maker.address, name: "Acme Sensors" }));
  makersOnly = randomImageId();
  open = randomImageId();
  const base = { verifier: "mock" as const, rewardPerUnit: 10n, genesisMs: TEST_GENESIS_MS };
  await admin.registerApplet({ ...base, imageId: makersOnly, devices: { makers: [1, makerId] } });
  await admin.registerApplet({ ...base, imageId: open, devices: "any" });
  minutely = randomImageId();
  await admin.registerApplet({ ...base, imageId: minutely, epochLengthMs: MINUTE_MS, devices: { makers: [makerId] } });
});
afterAll(() => net?.stop());

describe("makers", () => {
  it("governance admits a maker with a name; others cannot; names that would break token JSON are refused", async () => {
    expect(await makerOf(admin, maker.address)).toEqual({
      makerId,
      account: maker.address,
      active: true,
      name: "Acme Sensors",
    });
    await reverted(admitMaker(alice, { account: alice.address, name: "Mallory" }), "AccessControlUnauthorizedAccount");
    await reverted(admitMaker(admin, { account: maker.address, name: "Again" }), "MakerRegistry__AlreadyMaker");
    await reverted(admitMaker(admin, { account: bob.address, name: 'x","value":"y' }), "MakerRegistry__BadName");
    await reverted(addModel(alice, { name: "Fake" }), "MakerRegistry__NotMaker");
  });

  it("a maker registers a batch of its model; the token metadata names maker, model and key", async () => {
    const { model } = await addModel(maker, { name: "Meter-2" });
    expect(model).toBe(1);
    const ids = [randomDeviceId(), randomDeviceId(), randomDeviceId()];
    await maker.registerDevicesBatch({ deviceIds: ids, owners: [alice.address, bob.address, alice.address], model });
    expect(await ownerOf(alice, ids[1]!)).toBe(bob.address);
    expect(await alice.contracts.devices.getFunction("balanceOf")(alice.address)).toBeGreaterThanOrEqual(2n);
    const meta = await deviceMetadata(alice, ids[0]!);
    const attr = Object.fromEntries(meta.attributes.map((a) => [a.trait_type, a.value]));
    expect(attr).toMatchObject({
      maker: "Acme Sensors",
      "maker id": makerId,
      model: "Meter-2",
      "key valid until (ms)": 0,
    });
    expect(BigInt(attr.key as string)).toBe(ids[0]);
    // a suspended maker registers nothing more
    await admin.sendTx(admin.contracts.makers, "setMakerActive", [makerId, false]);
    await reverted(
      maker.registerDevicesBatch({ deviceIds: [randomDeviceId()], owners: alice.address }),
      "DeviceRegistry__NotMaker",
    );
    await admin.sendTx(admin.contracts.makers, "setMakerActive", [makerId, true]);
  });

  it("an owner registers with the maker's attestation; forged attestations are refused", async () => {
    const deviceId = randomDeviceId();
    const attestation = await signAttestation(maker, { deviceId });
    const proof = keyProof(alice, deviceId);
    // wrong signer: bob signs an attestation in the maker's name
    const byBob = await signAttestation(bob, { deviceId });
    await reverted(
      registerAttested(alice, { attestation: { ...byBob, maker: maker.address }, proof }),
      "DeviceRegistry__BadAttestation",
    );
    // a non-maker attesting for itself
    await reverted(registerAttested(alice, { attestation: byBob, proof }), "DeviceRegistry__NotMaker");
    // the maker's attestation for another device
    const other = randomDeviceId();
    await reverted(
      registerAttested(alice, { attestation: { ...attestation, deviceId: other }, proof: keyProof(alice, other) }),
      "DeviceRegistry__BadAttestation",
    );
    // another model than attested
    await reverted(
      registerAttested(alice, { attestation: { ...attestation, model: 1 }, proof }),
      "DeviceRegistry__BadAttestation",
    );
    // signed for another chain, or for another registry
    const wallet = maker.contracts.devices.runner as Wallet;
    const value = { deviceId, maker: maker.address, model: 0 };
    const forChain = async (chainId: number, registry: string): Promise<DeviceAttestation> => ({
      ...value,
      signature: await wallet.signTypedData(attestationDomain(chainId, registry), ATTESTATION_TYPES, value),
    });
    const registry = maker.manifest.contracts.DeviceRegistry;
    await reverted(
      registerAttested(alice, { attestation: await forChain(4690, registry), proof }),
      "DeviceRegistry__BadAttestation",
    );
    await reverted(
      registerAttested(alice, { attestation: await forChain(maker.chainId, bob.address), proof }),
      "DeviceRegistry__BadAttestation",
    );
    // a good attestation needs the proof of key too, bound to the owner
    await reverted(registerAttested(bob, { attestation, proof }), "DeviceRegistry__InvalidProof");
    await registerAttested(bob, { attestation, owner: alice.address, proof });
    expect(await ownerOf(alice, deviceId)).toBe(alice.address);
    expect(await alice.contracts.devices.getFunction("makerOf")(deviceId)).toEqual([BigInt(makerId), 0n]);
    await reverted(registerAttested(alice, { attestation, proof }), "DeviceRegistry__AlreadyRegistered");
  });
});

describe("attack: a self-made, unattested key", () => {
  it("registers (maker 0) and is paid only by an applet open to any device", async () => {
    const deviceId = await registerMockDevice(alice);
    const epoch = scheduledEpoch(3n);
    const err = await reverted(
      alice.claim(mockClaim({ imageId: makersOnly, deviceId, epoch, output: 5n })),
      "PayoutVault__DeviceNotAccepted",
    );
    expect(err.args[2]).toBe(0n);
    const before = await alice.balanceOf();
    await alice.claim(mockClaim({ imageId: open, deviceId, epoch, output: 5n }));
    expect(await alice.balanceOf()).toBe(before + 50n);
  });

  it("an applet that drops a maker stops paying its devices", async () => {
    const imageId = randomImageId();
    await admin.registerApplet({
      imageId,
      verifier: "mock",
      rewardPerUnit: 1n,
      genesisMs: TEST_GENESIS_MS,
      devices: { makers: [makerId] },
    });
    const [a, b] = [randomDeviceId(), randomDeviceId()];
    await maker.registerDevicesBatch({ deviceIds: [a, b], owners: alice.address });
    await alice.claim(mockClaim({ imageId, deviceId: a, epoch: scheduledEpoch(1n), output: 1n }));
    await reverted(
      bob.sendTx(bob.contracts.applets, "setAppletDevices", [imageId, false, [makerId], false]),
      "AppletRegistry__NotAppletOwner",
    );
    await admin.sendTx(admin.contracts.applets, "setAppletDevices", [imageId, false, [makerId], false]);
    await reverted(
      alice.claim(mockClaim({ imageId, deviceId: b, epoch: scheduledEpoch(1n), output: 1n })),
      "PayoutVault__DeviceNotAccepted",
    );
  });
});

describe("which devices an applet pays", () => {
  it("makers above 64 are accepted through the mapping; maker 0 cannot be listed", async () => {
    // admit makers until one has an id above 64 (ids 1–64 are bits of the applet's first slot)
    const wallets = Array.from({ length: 70 }, () => Wallet.createRandom());
    let high = 0;
    for (const w of wallets) {
      high = (await admitMaker(admin, { account: w.address, name: "Batch Maker" })).makerId;
      if (high > 64) break;
    }
    expect(high).toBeGreaterThan(64);
    const highWallet = wallets.find((w, i) => i === high - makerId - 1)!;
    expect((await makerOf(admin, highWallet.address)).makerId).toBe(high);
    const imageId = randomImageId();
    await admin.registerApplet({
      imageId,
      verifier: "mock",
      rewardPerUnit: 1n,
      genesisMs: TEST_GENESIS_MS,
      devices: { makers: [high] },
    });
    const lowOnly = randomImageId();
    await admin.registerApplet({
      imageId: lowOnly,
      verifier: "mock",
      rewardPerUnit: 1n,
      genesisMs: TEST_GENESIS_MS,
      devices: { makers: [1, makerId, 64] },
    });
    // the high maker attests a device; its owner registers it
    const deviceId = randomDeviceId();
    const domain = attestationDomain(alice.chainId, alice.manifest.contracts.DeviceRegistry);
    const value = { deviceId, maker: highWallet.address, model: 0 };
    const signature = await highWallet.signTypedData(domain, ATTESTATION_TYPES, value);
    await registerAttested(alice, { attestation: { ...value, signature }, proof: keyProof(alice, deviceId) });
    await alice.claim(mockClaim({ imageId, deviceId, epoch: scheduledEpoch(1n), output: 1n }));
    const err = await reverted(
      alice.claim(mockClaim({ imageId: lowOnly, deviceId, epoch: scheduledEpoch(1n), output: 1n })),
      "PayoutVault__DeviceNotAccepted",
    );
    expect(err.args[2]).toBe(BigInt(high));
    await admin.sendTx(admin.contracts.applets, "setAppletDevices", [imageId, false, [high], false]);
    await reverted(
      alice.claim(mockClaim({ imageId, deviceId, epoch: scheduledEpoch(2n), output: 1n })),
      "PayoutVault__DeviceNotAccepted",
    );
    await reverted(
      admin.sendTx(admin.contracts.applets, "setAppletDevices", [imageId, false, [0], true]),
      "AppletRegistry__BadMaker",
    );
  });
});

describe("attack: a device token changes hands mid-run", () => {
  it("safeTransferFrom to a contract: the next epoch pays the new holder and the seller's stream stops", async () => {
    const deviceId = randomDeviceId();
    await admin.registerDevicesBatch({ deviceIds: [deviceId], owners: alice.address });
    const dev = alice.manifest.contracts.DevToken!;
    const seller = createMarketClient(alice);
    const buyer = createMarketClient(bob);
    const streamId = await seller.list({ deviceIds: [deviceId], pricePerPeriod: 10n, periodSeconds: 60n, token: dev });
    await mintDevToken(bob, 1_000n);
    await buyer.subscribe({ streamId, periods: 1n });
    await alice.claim(mockClaim({ imageId: makersOnly, deviceId, epoch: scheduledEpoch(20n), output: 1n }));

    const holder = await deployContract(admin.contracts.vault.runner as Wallet, "DeviceHolder");
    // a contract without onERC721Received cannot receive it by a safe transfer
    await reverted(
      alice.transferDevice({ deviceId, to: alice.manifest.contracts.MockVerifier! }),
      "ERC721InvalidReceiver",
    );
    await alice.transferDevice({ deviceId, to: holder });
    expect(await ownerOf(alice, deviceId)).toBe(holder);
    const paid = await bob.claim(mockClaim({ imageId: makersOnly, deviceId, epoch: scheduledEpoch(21n), output: 3n }));
    expect(paid.paid.owner).toBe(holder);
    expect(await alice.contracts.token.getFunction("balanceOf")(holder)).toBe(30n);
    await reverted(buyer.subscribe({ streamId, periods: 1n }), "DataMarket__DeviceTransferred");
  });
});

describe("attack: a stolen key", () => {
  it("revoked from T: later epochs never pay the old key, even after reactivation; the rotated key earns from its start", async () => {
    const key1 = randomDeviceId();
    await maker.registerDevicesBatch({ deviceIds: [key1], owners: alice.address });
    const T = TEST_GENESIS_MS + 10n * HOUR_MS;
    await reverted(revokeKey(bob, { tokenId: key1, fromMs: T }), "DeviceRegistry__NotAuthorized");
    await reverted(revokeKey(alice, { tokenId: key1, fromMs: 0n }), "DeviceRegistry__BadRevocationTime");
    await revokeKey(alice, { tokenId: key1, fromMs: T });
    expect(await alice.deviceOf(key1)).toEqual({ owner: alice.address, active: false });
    await reverted(revokeKey(alice, { tokenId: key1, fromMs: T + 1n }), "DeviceRegistry__BadRevocationTime");

    // the epoch that ends at T still pays; the one that starts at T does not
    await alice.claim(mockClaim({ imageId: minutely, deviceId: key1, epoch: minuteEpoch(T - MINUTE_MS), output: 1n }));
    const afterT = { imageId: minutely, deviceId: key1, output: 1n };
    await reverted(alice.claim(mockClaim({ ...afterT, epoch: minuteEpoch(T) })), "PayoutVault__KeyNotValid");

    // reactivation = rotating to a new key; the old key stays dead and can never come back as a new device
    const key2 = randomDeviceId();
    await reverted(
      rotateKey(bob, { tokenId: key1, newKeyId: key2, proof: keyProof(bob, key2, alice.address) }),
      "DeviceRegistry__NotAuthorized",
    );
    await reverted(
      rotateKey(alice, { tokenId: key1, newKeyId: key2, proof: keyProof(alice, key2, bob.address) }),
      "DeviceRegistry__InvalidProof",
    );
    await reverted(
      rotateKey(alice, { tokenId: key1, newKeyId: key1, proof: keyProof(alice, key1) }),
      "DeviceRegistry__AlreadyRegistered",
    );
    await rotateKey(alice, { tokenId: key1, newKeyId: key2, proof: keyProof(alice, key2) });
    const k = await keyOf(alice, key1);
    expect(k.keyId).toBe(key2);
    expect(k.validFromMs).toBeGreaterThan(T);
    expect(await tokenOfKey(alice, key2)).toBe(key1);
    await reverted(
      alice.claim(mockClaim({ ...afterT, epoch: minuteEpoch(T + MINUTE_MS) })),
      "PayoutVault__KeyNotValid",
    );
    await reverted(
      maker.registerDevicesBatch({ deviceIds: [key1], owners: bob.address }),
      "DeviceRegistry__AlreadyRegistered",
    );
    await reverted(
      maker.registerDevicesBatch({ deviceIds: [key2], owners: bob.address }),
      "DeviceRegistry__AlreadyRegistered",
    );

    // the new key is not valid for an epoch before its start …
    await reverted(
      alice.claim(mockClaim({ imageId: minutely, deviceId: key2, epoch: minuteEpoch(T), output: 1n })),
      "PayoutVault__KeyNotValid",
    );
    // … and earns for the first whole epoch after it, paid to the token's owner
    await advance(150);
    const start = ((k.validFromMs + MINUTE_MS - 1n) / MINUTE_MS) * MINUTE_MS;
    expect(start + MINUTE_MS).toBeLessThanOrEqual(await chainNowMs());
    const r = await bob.claim(mockClaim({ imageId: minutely, deviceId: key2, epoch: minuteEpoch(start), output: 4n }));
    expect(r.paid).toMatchObject({ owner: alice.address, reward: 40n });
  });

  it("a maker may rotate or revoke the keys of devices it made (a recall); not those of other makers", async () => {
    const [mine, other] = [randomDeviceId(), randomDeviceId()];
    await maker.registerDevicesBatch({ deviceIds: [mine], owners: alice.address });
    await admin.registerDevicesBatch({ deviceIds: [other], owners: alice.address });
    const fresh = randomDeviceId();
    await rotateKey(maker, { tokenId: mine, newKeyId: fresh, proof: keyProof(maker, fresh, alice.address) });
    expect((await keyOf(alice, mine)).keyId).toBe(fresh);
    await reverted(revokeKey(maker, { tokenId: other, fromMs: TEST_GENESIS_MS }), "DeviceRegistry__NotAuthorized");
    await reverted(revokeKey(maker, { tokenId: randomDeviceId(), fromMs: 1n }), "DeviceRegistry__UnknownDevice");
  });
});

describe("attack: rotation to pay an epoch twice", () => {
  it("the same epoch proven under the old and the new key pays once (the nullifier is per token)", async () => {
    const oldKey = randomDeviceId();
    await maker.registerDevicesBatch({ deviceIds: [oldKey], owners: alice.address });
    const epoch = scheduledEpoch(30n);
    await alice.claim(mockClaim({ imageId: open, deviceId: oldKey, epoch, output: 2n }));
    const newKey = randomDeviceId();
    await rotateKey(alice, { tokenId: oldKey, newKeyId: newKey, proof: keyProof(alice, newKey) });
    await reverted(
      alice.claim(mockClaim({ imageId: open, deviceId: newKey, epoch, output: 2n })),
      "PayoutVault__AlreadyClaimed",
    );
    expect(await alice.isClaimed({ imageId: open, deviceId: newKey, epoch })).toBe(true);
    expect(await alice.factOf({ imageId: open, deviceId: oldKey, epoch })).toEqual({ proven: true, output: 2n });
    // an epoch the old key never claimed is still the old key's to claim, once
    const later = scheduledEpoch(31n);
    await reverted(
      alice.claim(mockClaim({ imageId: open, deviceId: newKey, epoch: later, output: 1n })),
      "PayoutVault__KeyNotValid",
    );
    await alice.claim(mockClaim({ imageId: open, deviceId: oldKey, epoch: later, output: 1n }));
    await reverted(
      alice.claim(mockClaim({ imageId: open, deviceId: newKey, epoch: later, output: 1n })),
      "PayoutVault__AlreadyClaimed",
    );
  });
});
