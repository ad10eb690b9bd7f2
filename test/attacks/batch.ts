/**
 * Medium and low (issue 16): claimBatch reverted whole when one item was already claimed, so anyone could copy one
 * item from a pending batch in the mempool, claim it first (the reward still goes to the device's owner) and make
 * the whole batch fail. Now a spent item is skipped with ClaimSkipped and the rest are paid. Real anvil, real vault;
 * MockVerifier proofs, since the attack is about the batch and not the proof.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  startDevnet,
  registerMockDevice,
  randomImageId,
  mockClaim,
  scheduledEpoch,
  TEST_GENESIS_MS,
  type Devnet,
} from "../../contracts/fixture.ts";
import type { MachinefiClient } from "../../contracts/index.ts";

describe("attack: front-running one item blocks a claim batch (batch)", () => {
  let net: Devnet;
  let operator: MachinefiClient, owner: MachinefiClient, attacker: MachinefiClient;
  let imageId: string;

  beforeAll(async () => {
    net = await startDevnet({ clients: 3 });
    [operator, owner, attacker] = net.clients as [MachinefiClient, MachinefiClient, MachinefiClient];
    imageId = randomImageId();
    await operator.registerApplet({ imageId, verifier: "mock", rewardPerUnit: 10n, genesisMs: TEST_GENESIS_MS });
  });
  afterAll(() => net?.stop());

  it("batch: an item claimed first by someone else is skipped with ClaimSkipped; the other items are paid", async () => {
    const devices = [await registerMockDevice(owner), await registerMockDevice(owner), await registerMockDevice(owner)];
    const batch = devices.map((deviceId, i) =>
      mockClaim({ imageId, deviceId, epoch: scheduledEpoch(1n), output: BigInt(i + 1) }),
    );
    await attacker.claim(batch[1]!); // copied from the mempool and mined first
    const before = await owner.balanceOf();
    const r = await operator.claimBatch(batch);
    expect(r.paid.map((p) => p.deviceId)).toEqual([devices[0], devices[2]]);
    expect(r.skipped.map((s) => s.deviceId)).toEqual([devices[1]]);
    expect((await owner.balanceOf()) - before).toBe(10n + 30n);
    for (const c of batch) expect(await owner.isClaimed(c)).toBe(true);
  });
});
