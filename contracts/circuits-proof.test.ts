/**
 * The whole proof path on real anvil: device readings signed with EdDSA-Poseidon, a readings_sum_16 proof from the
 * circuits layer (proveClaim, toCalldata), checked on chain by the generated Groth16Verifier_readings_sum_16.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildJsBackend, loadDeviceKey } from "../device-sdk/index.ts";
import { closeProver, isBuilt, proveClaim, toCalldata } from "../circuits/index.ts";
import { startDevnet, randomImageId, signedEpochChain, type Devnet } from "./fixture.ts";
import { ContractRevertedError } from "./index.ts";
import type { MachinefiClient } from "./client.ts";

let net: Devnet;
let admin: MachinefiClient, alice: MachinefiClient;

async function reverted(p: Promise<unknown>, name: string): Promise<void> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, `expected ${name}`).toBeInstanceOf(ContractRevertedError);
  expect((err as ContractRevertedError).errorName).toBe(name);
}

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
    expect(net.manifest.reducers.sum?.verifiers["16"], "contracts/generated/Groth16Verifier_readings_sum_16.sol was not deployed").toMatch(/^0x/);

    const backend = await buildJsBackend();
    const key = await loadDeviceKey(backend, new Uint8Array(32).fill(42));
    const epoch = { startMs: 1_764_000_000_000n, lengthMs: 60_000n };
    const readings = signedEpochChain({ backend, key, epoch, inside: [5n, 7n, 11n] });

    const imageId = randomImageId();
    await admin.registerDevicesBatch({ deviceIds: [key.deviceId], owners: alice.address });
    await admin.registerApplet({ imageId, verifier: { reducer: "sum" }, rewardPerUnit: 2n });
    const receipt = await proveClaim({ readings, devicePublicKey: key.publicKey, epoch, imageId, reducer: "sum", claim: 23n, sizes: [16] });
    const calldata = toCalldata(receipt);

    await reverted(alice.claim({ ...calldata, output: 24n }), "PayoutVault__InvalidProof");
    await reverted(alice.claim({ ...calldata, epoch: calldata.epoch + 1n }), "PayoutVault__InvalidProof");
    const before = await alice.balanceOf();
    const paid = await alice.claim(calldata);
    expect(paid.paid).toMatchObject({ deviceId: key.deviceId, output: 23n, reward: 46n, owner: alice.address });
    expect(await alice.balanceOf()).toBe(before + 46n);
    expect(await alice.factOf(calldata)).toEqual({ proven: true, output: 23n });
    await reverted(alice.claim(calldata), "PayoutVault__AlreadyClaimed");
  });
});
