/**
 * The whole proof path on real anvil: device readings signed with EdDSA-Poseidon, a readings_sum_16 proof from the
 * circuits layer (proveClaim, toCalldata), checked on chain by the generated Groth16Verifier_readings_sum_16.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildJsBackend, loadDeviceKey, registrationMessage } from "../device-sdk/index.ts";
import { closeProver, isBuilt, proveClaim, proveRegistration, toCalldata } from "../circuits/index.ts";
import { startDevnet, randomImageId, signedEpochChain, TEST_GENESIS_MS, type Devnet } from "./fixture.ts";
import { ContractRevertedError, createMachinefiClient, deployContract } from "./index.ts";
import type { Wallet } from "ethers";
import type { MachinefiClient } from "./client.ts";
import { reverted } from "./expect-revert.ts";

let net: Devnet;
let admin: MachinefiClient, alice: MachinefiClient;

beforeAll(async () => {
  net = await startDevnet();
  [admin, alice] = net.clients as [MachinefiClient, MachinefiClient];
});
afterAll(async () => {
  await closeProver();
  await net?.stop();
});

describe("a readings_sum_16 proof from the circuits layer", () => {
  it("is paid once by the vault through the generated verifier; tampered values are refused", async () => {
    expect(isBuilt("readings_sum_16"), "circuit readings_sum_16 is not built: run npm run build").toBe(true);
    expect(
      net.manifest.reducers.sum?.verifiers["16"],
      "contracts/generated/Groth16Verifier_readings_sum_16.sol was not deployed",
    ).toMatch(/^0x/);

    const backend = await buildJsBackend();
    const key = await loadDeviceKey(backend, new Uint8Array(32).fill(42));
    const epoch = { startMs: 1_764_000_000_000n, lengthMs: 60_000n };
    const readings = signedEpochChain({ backend, key, epoch, inside: [5n, 7n, 11n] });

    const imageId = randomImageId();
    await admin.registerDevicesBatch({ deviceIds: [key.deviceId], owners: alice.address });
    await admin.registerApplet({
      imageId,
      verifier: { reducer: "sum" },
      rewardPerUnit: 2n,
      epochLengthMs: 60_000n,
      genesisMs: TEST_GENESIS_MS,
    });
    const receipt = await proveClaim({
      readings,
      devicePublicKey: key.publicKey,
      epoch,
      imageId,
      reducer: "sum",
      claim: 23n,
      sizes: [16],
    });
    const calldata = toCalldata(receipt);

    await reverted(alice.claim({ ...calldata, output: 24n }), "PayoutVault__InvalidProof");
    await reverted(alice.claim({ ...calldata, epoch: calldata.epoch + (60_000n << 32n) }), "PayoutVault__InvalidProof");
    const before = await alice.balanceOf();
    const paid = await alice.claim(calldata);
    expect(paid.paid).toMatchObject({ deviceId: key.deviceId, output: 23n, reward: 46n, owner: alice.address });
    expect(await alice.balanceOf()).toBe(before + 46n);
    expect(await alice.factOf(calldata)).toEqual({ proven: true, output: 23n });
    await reverted(alice.claim(calldata), "PayoutVault__AlreadyClaimed");
  });
});

describe("a readings_count_above_16 proof (five public signals: the threshold is bound)", () => {
  it("is paid for the applet with that threshold and refused for an applet with another", async () => {
    expect(isBuilt("readings_count_above_16"), "circuit readings_count_above_16 is not built: run npm run build").toBe(
      true,
    );
    const backend = await buildJsBackend();
    const key = await loadDeviceKey(backend, new Uint8Array(32).fill(44));
    const epoch = { startMs: 1_764_000_000_000n, lengthMs: 60_000n };
    const readings = signedEpochChain({ backend, key, epoch, inside: [5n, 7n, 11n, 6n] });
    const [above6, above5] = [randomImageId(), randomImageId()];
    await admin.registerDevicesBatch({ deviceIds: [key.deviceId], owners: alice.address });
    await admin.registerApplet({
      imageId: above6,
      verifier: { reducer: "count_above" },
      rewardPerUnit: 10n,
      param: 6n,
      epochLengthMs: 60_000n,
      genesisMs: TEST_GENESIS_MS,
    });
    await admin.registerApplet({
      imageId: above5,
      verifier: { reducer: "count_above" },
      rewardPerUnit: 10n,
      param: 5n,
      epochLengthMs: 60_000n,
      genesisMs: TEST_GENESIS_MS,
    });
    const receipt = await proveClaim({
      readings,
      devicePublicKey: key.publicKey,
      epoch,
      imageId: above6,
      reducer: "count_above",
      params: { threshold: 6n },
      sizes: [16],
    });
    const calldata = toCalldata(receipt);
    // same proof presented for the threshold-5 applet: different imageId and param, refused
    await reverted(alice.claim({ ...calldata, imageId: above5 }), "PayoutVault__InvalidProof");
    const paid = await alice.claim(calldata);
    expect(paid.paid.output).toBe(receipt.claim.output);
    expect(paid.paid.reward).toBe(receipt.claim.output * 10n);
  });
});

describe("a register proof from the circuits layer", () => {
  it("registers the device behind the key to the owner it signed; a proof for another owner is refused", async () => {
    expect(isBuilt("register"), "circuit register is not built: run npm run build").toBe(true);
    const verifier = net.manifest.verifiers.register;
    expect(verifier, "contracts/generated/Groth16Verifier_register.sol was not deployed").toMatch(/^0x/);
    // a registry that checks the generated verifier (the shared fixture registers through MockVerifier)
    const registry = await deployContract(admin.contracts.vault.runner as Wallet, "DeviceRegistry", [
      verifier,
      net.manifest.contracts.MakerRegistry,
    ]);
    const manifest = { ...net.manifest, contracts: { ...net.manifest.contracts, DeviceRegistry: registry } };
    const client = createMachinefiClient({ rpcUrl: net.anvil.rpcUrl, privateKey: net.anvil.accounts[1]!, manifest });
    try {
      const backend = await buildJsBackend();
      const key = await loadDeviceKey(backend, new Uint8Array(32).fill(43));
      const chainId = BigInt(client.chainId);
      const proveFor = async (owner: string) => {
        const signature = backend.sign(key.privateKey, registrationMessage(BigInt(owner), chainId, BigInt(registry)));
        return (await proveRegistration({ publicKey: key.publicKey, signature, owner, chainId, registry })).calldata;
      };
      // the device signed for admin: client cannot take it over with that proof
      const forAdmin = await proveFor(admin.address);
      await reverted(
        client.registerDevice({ deviceId: key.deviceId, proof: forAdmin }),
        "DeviceRegistry__InvalidProof",
      );
      await client.registerDevice({ deviceId: key.deviceId, owner: admin.address, proof: forAdmin }); // relayed for admin
      expect(await client.deviceOf(key.deviceId)).toEqual({ owner: admin.address, active: true });
    } finally {
      client.close();
    }
  });
});
