/**
 * Real Groth16 verification on anvil: a snarkjs-exported verifier (tiny stand-in circuit, same public-signal count as
 * the readings circuits) registered per size k, real proofs from snarkjs, real pairings in the EVM.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ContractFactory, type Wallet } from "ethers";
import {
  startDevnet,
  registerMockDevice,
  randomImageId,
  randomDeviceId,
  scheduledEpoch,
  TEST_GENESIS_MS,
  type Devnet,
} from "./fixture.ts";
import {
  ContractRevertedError,
  claimSignals,
  deployContract,
  registerSignals,
  createMachinefiClient,
} from "./index.ts";
import { loadStandin, type Standin } from "./standin.ts";
import type { MachinefiClient } from "./client.ts";
import { reverted } from "./expect-revert.ts";

let net: Devnet;
let admin: MachinefiClient, alice: MachinefiClient;
let standin: Standin;
let verifier: string, imageId: string;

beforeAll(async () => {
  [net, standin] = await Promise.all([startDevnet(), loadStandin(4)]);
  [admin, alice] = net.clients as [MachinefiClient, MachinefiClient];
  const wallet = admin.contracts.vault.runner as Wallet;
  const f = new ContractFactory(standin.abi as never, standin.bytecode, wallet);
  verifier = await (await (await f.deploy()).waitForDeployment()).getAddress();
  imageId = randomImageId();
  await admin.registerApplet({
    imageId,
    verifier: { verifiers: { 16: verifier, 64: verifier } },
    rewardPerUnit: 3n,
    epochLengthMs: 60_000n,
    genesisMs: TEST_GENESIS_MS,
  });
});
afterAll(async () => {
  await standin?.close();
  await net?.stop();
});

describe("claims with real Groth16 proofs", () => {
  it("pays a valid proof and refuses every tampered public value", async () => {
    const deviceId = await registerMockDevice(alice);
    const other = await registerMockDevice(alice);
    const values = { imageId, deviceId, epoch: scheduledEpoch(0n, { lengthMs: 60_000n }), output: 123n };
    const proof = { k: 16, ...(await standin.prove(claimSignals(values))) };
    await reverted(alice.claim({ ...values, output: 124n, proof }), "PayoutVault__InvalidProof");
    await reverted(
      alice.claim({ ...values, epoch: scheduledEpoch(1n, { lengthMs: 60_000n }), proof }),
      "PayoutVault__InvalidProof",
    );
    await reverted(alice.claim({ ...values, deviceId: other, proof }), "PayoutVault__InvalidProof");
    await reverted(
      alice.claim({ ...values, proof: { ...proof, a: [proof.c[0], proof.c[1]] } }),
      "PayoutVault__InvalidProof",
    ); // on the curve, wrong
    // off the curve: the pairing precompile fails and eats the gas cap; the vault still calls it an invalid proof
    await reverted(
      alice.claim({ ...values, proof: { ...proof, c: [proof.c[0], proof.c[1] ^ 1n] } }),
      "PayoutVault__InvalidProof",
    );
    await reverted(alice.claim({ ...values, proof: { ...proof, k: 256 } }), "PayoutVault__NoVerifierForSize");
    const r = await alice.claim({ ...values, proof });
    expect(r.paid.reward).toBe(369n);
    await reverted(alice.claim({ ...values, proof }), "PayoutVault__AlreadyClaimed");
  });

  it("names a real verifier starved of gas instead of calling the proof invalid", async () => {
    const deviceId = await registerMockDevice(alice);
    const values = { imageId, deviceId, epoch: scheduledEpoch(5n, { lengthMs: 60_000n }), output: 1n };
    const proof = { k: 64, ...(await standin.prove(claimSignals(values))) };
    // enough to reach the verifier, too little for the pairing: snarkjs answers false, the vault says out of gas
    await reverted(alice.claim({ ...values, proof }, { gasLimit: 190_000n }), "PayoutVault__VerifierOutOfGas");
    expect(await alice.isClaimed(values)).toBe(false);
    await alice.claim({ ...values, proof });
  });
});

describe("device registration with a real Groth16 proof", () => {
  it("registers with a proof over (deviceId, owner, chainId, registry) and refuses one for another owner", async () => {
    const wallet = admin.contracts.vault.runner as Wallet;
    const registry = await deployContract(wallet, "DeviceRegistry", [verifier, net.manifest.contracts.MakerRegistry]);
    const manifest = { ...net.manifest, contracts: { ...net.manifest.contracts, DeviceRegistry: registry } };
    const client = createMachinefiClient({ rpcUrl: net.anvil.rpcUrl, privateKey: net.anvil.accounts[1]!, manifest });
    try {
      const deviceId = randomDeviceId();
      const chainId = BigInt(client.chainId);
      const forAdmin = await standin.prove(registerSignals({ deviceId, owner: admin.address, chainId, registry }));
      await reverted(client.registerDevice({ deviceId, proof: forAdmin }), "DeviceRegistry__InvalidProof");
      const proof = await standin.prove(registerSignals({ deviceId, owner: client.address, chainId, registry }));
      await client.registerDevice({ deviceId, proof });
      expect(await client.deviceOf(deviceId)).toEqual({ owner: client.address, active: true });
    } finally {
      client.close();
    }
  });
});
