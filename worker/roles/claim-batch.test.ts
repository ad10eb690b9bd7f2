/**
 * The submitter's claimBatch on a real anvil (PayoutVault with MockVerifier proofs) and a real SQLite worker store:
 * several proved claims go out in one transaction, each recorded paid with its own reward; one already paid on chain
 * is marked paid without being sent; one the vault would refuse (a tampered output) is left proved for the one-by-one
 * path; after a crash between sending and recording, a pass settles the batch's submitted claims from the receipt.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeClaimProof, type MachinefiClient } from "../../contracts/index.ts";
import {
  mockClaim,
  randomImageId,
  registerMockDevice,
  scheduledEpoch as E,
  startDevnet,
  TEST_GENESIS_MS,
  type Devnet,
} from "../../contracts/fixture.ts";
import { openStore, type AppletSpec, type StoreSet } from "../../store/index.ts";
import { contractsChainPort } from "../chain-port.ts";
import type { WorkerEvent } from "../worker.ts";
import { contractsClaimBatchPort, submitBatches } from "./claim-batch.ts";

const REWARD = 1_000n;
let net: Devnet;
let operator: MachinefiClient, alice: MachinefiClient, bob: MachinefiClient;
let imageId: string;
let store: StoreSet;
let applet: AppletSpec;

beforeAll(async () => {
  net = await startDevnet();
  [, operator, alice, bob] = net.clients as [MachinefiClient, MachinefiClient, MachinefiClient, MachinefiClient];
  imageId = randomImageId();
  await net.clients[0]!.registerApplet({
    genesisMs: TEST_GENESIS_MS,
    imageId,
    verifier: "mock",
    rewardPerUnit: REWARD,
  });
  store = openStore(":memory:");
  applet = { imageId, name: "batched", wasm: new Uint8Array([0, 97, 115, 109]), rewardPerUnit: REWARD };
  await store.worker.upsertApplet(applet, 0, 0);
}, 120_000);
afterAll(async () => {
  await store?.close();
  await net?.stop();
});

/** A proved claim in the store for (device, epoch index), its calldata a MockVerifier proof of `output` (or a lie). */
async function proved(deviceId: bigint, i: bigint, output: bigint, claimed = output): Promise<number> {
  const epoch = E(i);
  await store.worker.recordRun({
    applet,
    deviceId,
    epoch,
    readings: [{ seq: 1n } as never],
    stateBefore: undefined,
    outcome: {
      inputDigest: "0x",
      journal: new Uint8Array([1]),
      journalDigest: "0x",
      fuelUsed: 1n,
      stateRoot: "0x",
      state: new Uint8Array([1]),
      claims: [],
    },
    claims: [{ deviceId, output: claimed }],
    now: 0,
  });
  const row = (await store.worker.dueClaims("pending", Date.now(), 1000)).find(
    (c) => BigInt(c.device_id) === deviceId && BigInt(c.epoch) === epoch,
  )!;
  const c = mockClaim({ imageId, deviceId, epoch, output });
  const calldata = JSON.stringify({
    imageId,
    deviceId: String(deviceId),
    epoch: String(epoch),
    output: String(claimed),
    proof: encodeClaimProof(c.proof),
  });
  await store.worker.markProved(row.id, "{}", calldata, 1, 0);
  return row.id;
}

const stateOf = async (id: number) => (await store.worker.listClaims(1000)).find((c) => c.id === id)!;

describe("submitBatches (claimBatch)", () => {
  it("pays the ready claims in one transaction, each with its reward; skips the paid one, leaves the refused one", async () => {
    const [d1, d2] = [await registerMockDevice(alice), await registerMockDevice(bob)];
    const good = [
      await proved(d1, 1n, 2n),
      await proved(d1, 2n, 3n),
      await proved(d2, 1n, 4n),
      await proved(d2, 2n, 5n),
    ];
    const lie = await proved(d1, 3n, 6n, 60n); // the proof binds 6, the claim says 60: the vault refuses it
    const front = await proved(d2, 3n, 7n);
    await bob.claim(mockClaim({ imageId, deviceId: d2, epoch: E(3n), output: 7n })); // someone paid it first
    const events: WorkerEvent[] = [];
    const before = [await alice.balanceOf(), await bob.balanceOf()];
    const sent = await submitBatches({
      workerStore: store.worker,
      chain: contractsChainPort(operator),
      batch: contractsClaimBatchPort(operator),
      onEvent: (e) => events.push(e),
    });
    expect(sent).toBe(4);
    const rows = await Promise.all(good.map(stateOf));
    expect(rows.map((r) => r.state)).toEqual(["paid", "paid", "paid", "paid"]);
    expect(rows.map((r) => BigInt(r.reward!))).toEqual([2n, 3n, 4n, 5n].map((o) => o * REWARD));
    expect(new Set(rows.map((r) => r.tx_hash)).size).toBe(1); // one transaction
    expect(events.filter((e) => e.type === "claim" && e.state === "submitted")).toHaveLength(4);
    expect(await alice.balanceOf()).toBe(before[0]! + 5n * REWARD);
    expect(await bob.balanceOf()).toBe(before[1]! + 9n * REWARD);
    expect((await stateOf(front)).state).toBe("paid");
    expect((await stateOf(lie)).state).toBe("proved"); // EpochWorker.submitDue sends it alone and records why it fails
    // Nothing else due: a second pass sends nothing (the refused claim alone is no batch).
    expect(
      await submitBatches({
        workerStore: store.worker,
        chain: contractsChainPort(operator),
        batch: contractsClaimBatchPort(operator),
      }),
    ).toBe(0);
    await store.worker.markFailed(lie, "test: refused", 1, 0);
  }, 120_000);

  it("after a crash between sending and recording the outcome, settles each claim of the batch from the receipt", async () => {
    const d = await registerMockDevice(alice);
    const ids = [await proved(d, 10n, 8n), await proved(d, 11n, 9n)];
    const port = contractsClaimBatchPort(operator);
    const { txHash } = await port.send(await Promise.all(ids.map((id) => store.worker.calldataOf(id))));
    // sent with the node's access list (registries and token declared: each first touch 100 gas cheaper)
    const tx = await operator.provider.getTransaction(txHash);
    expect(tx!.accessList?.length).toBeGreaterThan(0);
    for (const id of ids) await store.worker.markSubmitted(id, txHash, 0); // ...and the submitter died here
    await submitBatches({ workerStore: store.worker, chain: contractsChainPort(operator), batch: port });
    const rows = await Promise.all(ids.map(stateOf));
    expect(rows.map((r) => [r.state, BigInt(r.reward!)])).toEqual([
      ["paid", 8n * REWARD],
      ["paid", 9n * REWARD],
    ]);
  }, 120_000);
});
