/**
 * Aggregated claims on real anvil with real proofs (issue 26): energy-sum's compiled claim in a batch circuit of
 * N = 2 (circuits/batch, dev keys cached under build/batch-circuits/), BatchVault crediting the applet's earnings
 * tree and paying withdrawals. A batch pays each owner exactly what single claims of the same readings pay; a
 * device twice in an epoch, a stale previous root, an epoch off the schedule or before the switch to batches,
 * credits that are not the proof's (inflated, reordered, left out, cut) and a tampered credit in a withdrawal are
 * refused by name; a device left out of the first batch is credited by a later one, once; withdrawals are partial,
 * repeated and follow a device transfer; a batched device-epoch becomes a fact (factOf) from its credit's keccak
 * proof, and ParametricInsurance pays on it.
 */
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildJsBackend, loadDeviceKey, packEpoch, type DeviceKey, type EddsaBackend } from "../device-sdk/index.ts";
import { closeProver, getDefaultPool, ProvingError, type ChainReading } from "../circuits/index.ts";
import { setupAppletCircuit, type AppletCircuit } from "../circuits/compile/keys.ts";
import { proveAppletClaim, type AppletProof } from "../circuits/compile/prove.ts";
import { setupBatchCircuit, type BatchCircuit } from "../circuits/batch/circuit.ts";
import { batchInput, proveBatch, type BatchProof } from "../circuits/batch/prove.ts";
import { AlreadyCreditedError } from "../circuits/batch/errors.ts";
import { EarningsTree, slotOf } from "../circuits/batch/tree.ts";
import {
  bindingOf,
  challengeOf,
  creditOf,
  creditProofOf,
  encodeCredits,
  replayCredits,
  type CreditRecord,
} from "../circuits/batch/credits.ts";
import type { CircuitInput } from "../circuits/witness.ts";
import { encodeClaimProof, mockRegisterProof, registerSignals, type MachinefiClient } from "./index.ts";
import {
  batchVaultClient,
  creditedBatchesOf,
  creditRecord,
  deployBatchVault,
  encodeBatchProof,
  type BatchVaultClient,
} from "./batch.ts";
import { getArtifact } from "./artifacts.ts";
import { Contract } from "ethers";
import { signedEpochChain, startDevnet, TEST_GENESIS_MS, type Devnet } from "./fixture.ts";
import { reverted } from "./expect-revert.ts";
import { toContractsError } from "./revert.ts";
import { mintDevToken } from "./market.ts";
import { revokeKey, rotateKey } from "./devices.ts";
import { R } from "../circuits/setup/field.ts";
import { createInsuranceClient, deployInsurance, Trigger } from "./examples/insurance.ts";
import { loadBuiltApplet } from "../toolchain/index.ts";

const K = 16;
const N = 2;
const DEPTH = 20;
const LENGTH = 60_000n;
const REWARD = 2n;

function vaultProof(p: AppletProof): string {
  const { a, b, c } = p.proof;
  return encodeClaimProof({
    k: p.k,
    a,
    b: [
      [b[0][1], b[0][0]],
      [b[1][1], b[1][0]],
    ],
    c,
  });
}

describe("BatchVault with real batch proofs", { timeout: 1_200_000 }, () => {
  const wasm = loadBuiltApplet("energy-sum");
  let net: Devnet;
  let admin: MachinefiClient, alice: MachinefiClient, bob: MachinefiClient, carol: MachinefiClient;
  let single: AppletCircuit, batch: BatchCircuit;
  let backend: EddsaBackend;
  let keyA: DeviceKey, keyB: DeviceKey, keyC: DeviceKey;
  /** One client per account: [deployer, alice, bob, carol]; anyone may submit batches (bob's client does). */
  let users: BatchVaultClient[];
  let vault: BatchVaultClient;
  let imageId: string;
  let tree: EarningsTree;

  const chain = (key: DeviceKey, startMs: bigint, inside: bigint[]): ChainReading[] =>
    signedEpochChain({ backend, key, epoch: { startMs, lengthMs: LENGTH }, inside });
  const advance = async (seconds: number) => {
    await admin.provider.send("evm_increaseTime", [seconds]);
    await admin.provider.send("evm_mine", []);
  };
  const submit = (p: BatchProof, over: Partial<{ epoch: bigint; prevRoot: bigint; credits: string }> = {}) =>
    vault.submitBatch({
      imageId,
      n: N,
      epoch: over.epoch ?? p.epoch,
      prevRoot: over.prevRoot ?? p.prevRoot,
      newRoot: p.newRoot,
      credits: over.credits ?? p.creditsData,
      proof: encodeBatchProof(p.proof),
    });
  const records = (p: BatchProof): CreditRecord[] => p.credits.map((c) => creditOf(c.leaf, c.output, c.lag));
  /** The device's latest batch: its credit there pays everything it earned. */
  const latest = new Map<bigint, BatchProof>();
  const submitted = new Set<string>();
  const latestBatches = () => submitted.size;
  const credited = (p: BatchProof) => {
    submitted.add(p.creditsRoot);
    for (const c of p.credits) latest.set(c.deviceId, p);
  };
  const creditIn = (p: BatchProof, deviceId: bigint) => creditProofOf(records(p), p.epoch, deviceId);
  const withdrawal = (deviceId: bigint) => ({ imageId, deviceId, credit: creditIn(latest.get(deviceId)!, deviceId) });

  beforeAll(async () => {
    const log = (m: string) => console.log(m);
    [net, single, batch] = await Promise.all([
      startDevnet({ clients: 4 }),
      setupAppletCircuit({ wasm, k: K, log }),
      setupBatchCircuit({ wasm, k: K, n: N, depth: DEPTH, log }),
    ]);
    [admin, alice, bob, carol] = net.clients as [MachinefiClient, MachinefiClient, MachinefiClient, MachinefiClient];
    backend = await buildJsBackend();
    [keyA, keyB, keyC] = await Promise.all([41, 42, 43].map((n) => loadDeviceKey(backend, new Uint8Array(32).fill(n))));
    await admin.registerDevicesBatch({
      deviceIds: [keyA.deviceId, keyB.deviceId, keyC.deviceId],
      owners: [alice.address, bob.address, carol.address],
    });
    imageId = `0x${single.imageId}`;
    await admin.registerApplet({
      imageId,
      verifier: { compiled: [{ k: K, name: single.name, solidity: readFileSync(single.solidity, "utf8") }] },
      rewardPerUnit: REWARD,
      epochLengthMs: LENGTH,
      genesisMs: TEST_GENESIS_MS,
    });
    const address = await deployBatchVault({
      rpcUrl: net.anvil.rpcUrl,
      privateKey: net.anvil.accounts[0]!,
      manifest: net.manifest,
      depth: DEPTH,
    });
    users = [0, 1, 2, 3].map((i) =>
      batchVaultClient({
        rpcUrl: net.anvil.rpcUrl,
        privateKey: net.anvil.accounts[i]!,
        manifest: net.manifest,
        address,
      }),
    );
    vault = users[2]!;
    tree = new EarningsTree(DEPTH);
  }, 1_200_000);
  afterAll(async () => {
    for (const u of users ?? []) u.close();
    await closeProver();
    await net?.stop();
  });

  let fromMs: bigint;
  let epochB: bigint;
  let batch1: BatchProof;

  it("splits the schedule at the switch: single claims before it, batches from the epoch running then", async () => {
    // single claims of epoch 1 for A and B, before the switch: what a batch must pay too
    const e1 = TEST_GENESIS_MS + LENGTH;
    for (const [key, owner, inside] of [
      [keyA, alice, [5n, 7n, 11n]],
      [keyB, bob, [100n, 1n]],
    ] as const) {
      const p = await proveAppletClaim({
        circuit: single,
        wasm,
        readings: chain(key, e1, [...inside]),
        devicePublicKey: key.publicKey,
        epoch: { startMs: e1, lengthMs: LENGTH },
      });
      await owner.claim({
        imageId,
        deviceId: key.deviceId,
        epoch: p.claim.epoch,
        output: p.claim.output,
        proof: vaultProof(p),
      });
    }
    expect(await alice.balanceOf()).toBe(46n);
    expect(await bob.balanceOf()).toBe(202n);

    // a registrar (the deployer) switches the applet: only a registrar may, and only once
    await reverted(users[1]!.enableBatches(imageId), "AccessControlUnauthorizedAccount");
    const registrar = users[0]!;
    await registrar.enableBatches(imageId);
    await reverted(registrar.enableBatches(imageId), "AppletRegistry__BatchVaultAlreadySet");
    const solidity = readFileSync(batch.solidity, "utf8");
    await registrar.setBatchVerifier({ imageId, n: N, verifier: { name: batch.name, solidity } });
    // verifiers never change, and only a registrar sets them
    await reverted(registrar.setBatchVerifier({ imageId, n: N, verifier: vault.address }), "BatchVault__BadVerifier");
    await reverted(vault.setBatchVerifier({ imageId, n: 4, verifier: vault.address }), "BatchVault__NotRegistrar");
    expect((await admin.appletOf(imageId)).batched).toBe(true);
    // the registry's own split (the epoch running at the switch's block), not one computed from a later block
    fromMs = ((await admin.contracts.applets.getFunction("batchVaultOf")(imageId)) as [string, bigint])[1];
    epochB = packEpoch({ startMs: fromMs, lengthMs: LENGTH });
    await advance(2 * Number(LENGTH / 1000n));

    // an epoch before the switch is still a single claim (C, epoch 2); one from the switch on is refused singly
    const e2 = TEST_GENESIS_MS + 2n * LENGTH;
    const pc = await proveAppletClaim({
      circuit: single,
      wasm,
      readings: chain(keyC, e2, [3n]),
      devicePublicKey: keyC.publicKey,
      epoch: { startMs: e2, lengthMs: LENGTH },
    });
    await carol.claim({ imageId, deviceId: keyC.deviceId, epoch: pc.claim.epoch, output: 3n, proof: vaultProof(pc) });
    expect(await carol.balanceOf()).toBe(6n);
    const pb = await proveAppletClaim({
      circuit: single,
      wasm,
      readings: chain(keyC, fromMs, [3n]),
      devicePublicKey: keyC.publicKey,
      epoch: { startMs: fromMs, lengthMs: LENGTH },
    });
    await reverted(
      carol.claim({ imageId, deviceId: keyC.deviceId, epoch: epochB, output: 3n, proof: vaultProof(pb) }),
      "PayoutVault__BatchedEpoch",
    );
  });

  it("a batch of A and B credits what their single claims paid; schedule, switch and root are checked first", async () => {
    const epoch = { startMs: fromMs, lengthMs: LENGTH };
    batch1 = await proveBatch({
      circuit: batch,
      wasm,
      tree,
      epoch,
      devices: [
        { readings: chain(keyA, fromMs, [5n, 7n, 11n]), publicKey: keyA.publicKey },
        { readings: chain(keyB, fromMs, [100n, 1n]), publicKey: keyB.publicKey },
      ],
    });
    // credits come in slot order, whatever order the devices were given in
    const outputOf = new Map(batch1.credits.map((c) => [c.deviceId, c.output]));
    expect([outputOf.get(keyA.deviceId), outputOf.get(keyB.deviceId)]).toEqual([23n, 101n]);
    const slots = batch1.credits.map((c) => slotOf(c.deviceId, DEPTH));
    expect(slots[0]! < slots[1]!).toBe(true);
    expect(batch1.prevRoot).toBe(await vault.rootOf(imageId));

    // the same proof for another epoch: refused by the schedule before any verification
    await reverted(submit(batch1, { epoch: epochB + (1000n << 32n) }), "BatchVault__EpochMisaligned");
    const before = packEpoch({ startMs: fromMs - LENGTH, lengthMs: LENGTH });
    await reverted(submit(batch1, { epoch: before }), "BatchVault__EpochBeforeBatches");
    // an epoch on the schedule after the switch, but not the proof's: the proof does not verify
    await reverted(submit(batch1, { epoch: epochB + (LENGTH << 32n) }), "BatchVault__InvalidProof");
    // the credits are the proof's, in its order: inflated, reordered, one left out or cut short, each is refused
    const [ca, cb] = records(batch1);
    const inflated = encodeCredits([{ ...ca!, cumulative: ca!.cumulative + 1000n }, cb!]);
    await reverted(submit(batch1, { credits: inflated }), "BatchVault__InvalidProof");
    const stolen = encodeCredits([ca!, { ...cb!, deviceId: keyC.deviceId }]);
    await reverted(submit(batch1, { credits: stolen }), "BatchVault__InvalidProof");
    await reverted(submit(batch1, { credits: encodeCredits([cb!, ca!]) }), "BatchVault__InvalidProof");
    await reverted(submit(batch1, { credits: encodeCredits([ca!]) }), "BatchVault__InvalidProof");
    await reverted(submit(batch1, { credits: batch1.creditsData.slice(0, -2) }), "BatchVault__BadCredits");
    await reverted(submit(batch1, { credits: "0x" }), "BatchVault__BadCredits");
    await reverted(submit(batch1, { credits: encodeCredits([ca!, cb!, ca!]) }), "BatchVault__BadCredits");
    // the first credit's id + p: the same S modulo p, but another 256-bit id in the keccak leaf (a maker could
    // register it and withdraw the credit): refused by value
    const plusP = "0x" + (ca!.deviceId + R).toString(16).padStart(64, "0") + batch1.creditsData.slice(2 + 64);
    await reverted(submit(batch1, { credits: plusP }), "BatchVault__ValueOutOfField");
    const sent = await submit(batch1);
    console.log(`batch of ${N}: ${sent.gasUsed} gas (${sent.gasUsed / BigInt(N)} per device-epoch)`);
    expect(sent.creditsRoot).toBe(batch1.creditsRoot);
    expect(await vault.batchEpochOf(imageId, batch1.creditsRoot)).toBe(epochB);
    tree = batch1.tree;
    credited(batch1);
    expect(await vault.rootOf(imageId)).toBe(tree.root);
    // replaying the batch: its previous root is no longer the vault's
    await reverted(submit(batch1), "BatchVault__StaleRoot");

    const a = await users[1]!.withdraw(withdrawal(keyA.deviceId));
    const b = await users[2]!.withdraw(withdrawal(keyB.deviceId));
    expect([a.units, a.reward, a.owner]).toEqual([23n, 46n, alice.address]);
    expect([b.units, b.reward, b.owner]).toEqual([101n, 202n, bob.address]);
    console.log(`withdraw: ${a.gasUsed} gas`);
    expect(await alice.balanceOf()).toBe(2n * 46n); // the single claim of epoch 1 and the batch of epoch B
    expect(await bob.balanceOf()).toBe(2n * 202n);
  });

  it("a device twice in one epoch is refused: by the prover by name, and by the circuit (no witness)", async () => {
    const epoch = { startMs: fromMs, lengthMs: LENGTH };
    await expect(
      batchInput({
        circuit: batch,
        wasm,
        tree,
        epoch,
        devices: [{ readings: chain(keyA, fromMs, [5n, 7n, 11n]), publicKey: keyA.publicKey }],
      }),
    ).rejects.toThrow(AlreadyCreditedError);
    // C alone, then its padding copy switched on: C credited twice in one batch has no witness
    const { input } = await batchInput({
      circuit: batch,
      wasm,
      tree,
      epoch,
      devices: [{ readings: chain(keyC, fromMs, [3n]), publicKey: keyC.publicKey }],
    });
    const twice = { ...input, active: ["1", "1"] } as unknown as CircuitInput;
    await expect(getDefaultPool().prove(twice, batch.wasm, batch.zkey)).rejects.toThrow(ProvingError);
    // A's old leaf (lastEpoch = epoch B) fed as if it were fresh: the path no longer leads to the root
    const { input: again } = await batchInput({
      circuit: batch,
      wasm,
      tree: new EarningsTree(DEPTH),
      epoch,
      devices: [{ readings: chain(keyA, fromMs, [5n, 7n, 11n]), publicKey: keyA.publicKey }],
    });
    const forged = { ...again, prevRoot: tree.root.toString() } as unknown as CircuitInput;
    await expect(getDefaultPool().prove(forged, batch.wasm, batch.zkey)).rejects.toThrow(ProvingError);
  });

  it("the circuit takes active devices in increasing slot order only (the roots then fix the credits' order)", async () => {
    // A and B credited one after the other from an empty tree, merged into one batch in either order, with S
    // rebuilt for that order: the decreasing order has no witness, the increasing one proves
    const epoch = { startMs: fromMs, lengthMs: LENGTH };
    const devices = [
      { key: keyA, readings: chain(keyA, fromMs, [5n, 7n, 11n]) },
      { key: keyB, readings: chain(keyB, fromMs, [100n, 1n]) },
    ].sort((x, y) => (slotOf(x.key.deviceId, DEPTH) < slotOf(y.key.deviceId, DEPTH) ? -1 : 1));
    const merged = async (order: typeof devices) => {
      let t = new EarningsTree(DEPTH);
      const parts = [];
      for (const d of order) {
        const part = await batchInput({
          circuit: batch,
          wasm,
          tree: t,
          epoch,
          devices: [{ readings: d.readings, publicKey: d.key.publicKey }],
        });
        parts.push(part);
        t = part.tree;
      }
      const input: Record<string, unknown> = { ...parts[0]!.input, active: ["1", "1"] };
      for (const [k, v] of Object.entries(parts[0]!.input))
        if (Array.isArray(v) && v.length === N && k !== "active")
          input[k] = parts.map((p) => (p.input[k] as unknown[])[0]);
      const records = parts.map((p) => creditOf(p.credits[0]!.leaf, p.credits[0]!.output, p.credits[0]!.lag));
      const header = { imageId, epoch: epochB, prevRoot: parts[0]!.prevRoot, newRoot: t.root };
      const r = challengeOf(header, records);
      Object.assign(input, {
        newRoot: t.root.toString(),
        r: r.toString(),
        S: bindingOf(r, header, records).toString(),
      });
      return input as unknown as CircuitInput;
    };
    await expect(getDefaultPool().prove(await merged([...devices].reverse()), batch.wasm, batch.zkey)).rejects.toThrow(
      ProvingError,
    );
    const proved = await getDefaultPool().prove(await merged(devices), batch.wasm, batch.zkey);
    expect(proved.publicSignals).toHaveLength(2);
  });

  it("C, left out of the first batch, is credited by a later batch of the same epoch, and only once", async () => {
    const epoch = { startMs: fromMs, lengthMs: LENGTH };
    const batch2 = await proveBatch({
      circuit: batch,
      wasm,
      tree,
      epoch,
      devices: [{ readings: chain(keyC, fromMs, [3n, 4n]), publicKey: keyC.publicKey }],
    });
    await submit(batch2);
    tree = batch2.tree;
    credited(batch2);
    await expect(
      batchInput({
        circuit: batch,
        wasm,
        tree,
        epoch,
        devices: [{ readings: chain(keyC, fromMs, [3n, 4n]), publicKey: keyC.publicKey }],
      }),
    ).rejects.toThrow(AlreadyCreditedError);
    await reverted(submit(batch2), "BatchVault__StaleRoot");
    const c = await users[3]!.withdraw(withdrawal(keyC.deviceId));
    expect([c.units, c.reward]).toEqual([7n, 14n]);
  });

  it("withdrawals: a tampered leaf is refused, a repeat pays nothing, later epochs pay only the difference, a transfer moves payouts", async () => {
    const w = withdrawal(keyA.deviceId);
    const tampered = (c: Partial<typeof w.credit>, deviceId = keyA.deviceId) => ({
      ...w,
      deviceId,
      credit: { ...w.credit, ...c },
    });
    await reverted(users[1]!.withdraw(tampered({ cumulative: w.credit.cumulative + 1n })), "BatchVault__NotInBatch");
    await reverted(users[1]!.withdraw(tampered({ firstEpoch: w.credit.firstEpoch - 1n })), "BatchVault__NotInBatch");
    await reverted(users[1]!.withdraw(tampered({ proof: [] })), "BatchVault__NotInBatch");
    // B's credit claimed for A (A's owner would be paid B's units)
    await reverted(
      users[1]!.withdraw({ ...withdrawal(keyB.deviceId), deviceId: keyA.deviceId }),
      "BatchVault__NotInBatch",
    );
    // a record with bits above the lag's whose low 248 bits are a real credit's: refused before any hashing (the
    // client refuses to pack a field wider than its bits, so the call goes straight to the contract)
    expect(() => creditRecord({ ...w.credit, cumulative: w.credit.cumulative + (1n << 96n) })).toThrow(RangeError);
    const raw = new Contract(vault.address, getArtifact("BatchVault").abi as never, users[1]!.wallet);
    await reverted(
      raw
        .getFunction("withdraw")(imageId, keyA.deviceId, creditRecord(w.credit) | (1n << 250n), w.credit.batch, [
          ...w.credit.proof,
        ])
        .catch((e: unknown) => {
          throw toContractsError(e, "withdraw");
        }),
      "BatchVault__CreditOutOfRange",
    );
    await reverted(users[1]!.withdraw(tampered({ batch: `0x${"11".repeat(32)}` })), "BatchVault__NoSuchBatch");
    // a maker may register any id: one sharing A's low 128 bits, owned by bob, cannot withdraw A's credit
    const alias = keyA.deviceId ^ (1n << 200n);
    await admin.registerDevicesBatch({ deviceIds: [alias], owners: [bob.address] });
    await reverted(users[2]!.withdraw({ ...w, deviceId: alias }), "BatchVault__NotInBatch");
    await reverted(vault.recordFact({ imageId, deviceId: alias, credit: w.credit }), "BatchVault__NotInBatch");
    await reverted(users[1]!.withdraw(w), "BatchVault__NothingToWithdraw");

    // epoch B+1: A earns 10 more; alice then sells A to carol before withdrawing it
    const next = fromMs + LENGTH;
    const b3 = await proveBatch({
      circuit: batch,
      wasm,
      tree,
      epoch: { startMs: next, lengthMs: LENGTH },
      devices: [{ readings: chain(keyA, next, [10n]), publicKey: keyA.publicKey }],
    });
    await advance(Number(LENGTH / 1000n));
    await submit(b3);
    tree = b3.tree;
    const older = creditIn(batch1, keyA.deviceId);
    credited(b3);
    await alice.transferDevice({ to: carol.address, deviceId: keyA.deviceId });
    // anyone (here bob, a keeper) may push a withdrawal: it pays the token's owner now, carol
    const carolBefore = await carol.balanceOf();
    // A's credit in batch 1 (cumulative 23) is genuine but older: it pays nothing more
    await reverted(
      users[2]!.withdraw({ imageId, deviceId: keyA.deviceId, credit: older }),
      "BatchVault__NothingToWithdraw",
    );
    const pushed = await users[2]!.withdraw(withdrawal(keyA.deviceId));
    expect([pushed.units, pushed.reward, pushed.owner]).toEqual([10n, 20n, carol.address]);
    expect(await carol.balanceOf()).toBe(carolBefore + 20n);
    expect(await vault.withdrawnOf(imageId, keyA.deviceId)).toBe(33n);
    await reverted(users[1]!.withdraw(withdrawal(keyA.deviceId)), "BatchVault__NothingToWithdraw");
  });
  it("facts stay composable: a batched device-epoch is recorded from its batch's roots and ParametricInsurance pays on it", async () => {
    // A's credit in batch 1 makes (A, epoch B) a fact
    const fact = { imageId, deviceId: keyA.deviceId, credit: creditIn(batch1, keyA.deviceId) };
    expect(await vault.factOf(imageId, keyA.deviceId, epochB)).toEqual({ proven: false, output: 0n });
    await reverted(
      vault.recordFact({ ...fact, credit: { ...fact.credit, output: fact.credit.output + 1n } }),
      "BatchVault__NotInBatch",
    );
    // B's credit in batch 1 is not A's
    await reverted(vault.recordFact({ ...fact, credit: creditIn(batch1, keyB.deviceId) }), "BatchVault__NotInBatch");
    // C was not in batch 1: its credit in batch 2 does not lead to batch 1's root
    const c2 = creditIn(latest.get(keyC.deviceId)!, keyC.deviceId);
    await reverted(
      vault.recordFact({ imageId, deviceId: keyC.deviceId, credit: { ...c2, batch: batch1.creditsRoot } }),
      "BatchVault__NotInBatch",
    );
    const rec = await vault.recordFact(fact);
    console.log(`recordFact: ${rec.gasUsed} gas`);
    // by key or by token id, as PayoutVault.factOf
    expect(await vault.factOf(imageId, keyA.deviceId, epochB)).toEqual({ proven: true, output: 23n });
    const tokenA = (await admin.contracts.devices.getFunction("tokenOfKey")(keyA.deviceId)) as bigint;
    expect(await vault.factOf(imageId, tokenA, epochB)).toEqual({ proven: true, output: 23n });

    // cover on B for an epoch still to come, paid from a batched fact (not a PayoutVault one)
    const now = BigInt((await admin.provider.getBlock("latest"))!.timestamp) * 1000n;
    // two epochs ahead: the buy's block may come seconds after `now`
    const startMs = now - ((now - TEST_GENESIS_MS) % LENGTH) + 2n * LENGTH;
    const address = await deployInsurance(admin, {
      token: admin.manifest.contracts.DevToken!,
      terms: {
        imageId,
        trigger: Trigger.AtLeast,
        line: 10n,
        epochLengthMs: LENGTH,
        premiumPerEpoch: 0n,
        payout: 500n,
        maxEpochs: 1,
        claimWindow: 3_600n,
      },
      expectedParam: 0n,
    });
    const uw = createInsuranceClient(admin, address);
    await mintDevToken(admin, 500n);
    await uw.fund(500n);
    const { policyId } = await createInsuranceClient(carol, address).buy({
      deviceId: keyB.deviceId,
      startMs,
      epochs: 1,
    });
    await advance(3 * Number(LENGTH / 1000n));
    const epoch = packEpoch({ startMs, lengthMs: LENGTH });
    const b4 = await proveBatch({
      circuit: batch,
      wasm,
      tree,
      epoch: { startMs, lengthMs: LENGTH },
      devices: [{ readings: chain(keyB, startMs, [6n, 6n]), publicKey: keyB.publicKey }],
    });
    await submit(b4);
    tree = b4.tree;
    credited(b4);
    const bob2 = createInsuranceClient(bob, address);
    await reverted(bob2.claim({ policyId, epoch }), "ParametricInsurance__FactNotProven");
    await vault.recordFact({ imageId, deviceId: keyB.deviceId, credit: creditIn(b4, keyB.deviceId) });
    expect(await vault.factOf(imageId, keyB.deviceId, epoch)).toEqual({ proven: true, output: 12n });
    const paid = await bob2.claim({ policyId, epoch });
    expect([paid.output, paid.payout]).toEqual([12n, 500n]);
  });

  it("a device left out of an epoch is credited for it late, after a later epoch was (a batcher cannot take it), once", async () => {
    const now = BigInt((await admin.provider.getBlock("latest"))!.timestamp) * 1000n;
    const e1 = now - ((now - TEST_GENESIS_MS) % LENGTH) + LENGTH;
    const e2 = e1 + LENGTH;
    await advance(3 * Number(LENGTH / 1000n));
    const prove = (startMs: bigint, inside: bigint[], over: Partial<{ tree: EarningsTree }> = {}) =>
      proveBatch({
        circuit: batch,
        wasm,
        tree: over.tree ?? tree,
        epoch: { startMs, lengthMs: LENGTH },
        devices: [{ readings: chain(keyB, startMs, inside), publicKey: keyB.publicKey }],
      });
    const earned = tree.leafAt(keyB.deviceId)!.cumulative;
    // a batcher credits B's later epoch first, leaving e1 out
    const second = await prove(e2, [6n]);
    await submit(second);
    tree = second.tree;
    credited(second);
    // e1 is still credited, by a later batch: one epoch back (lag 1), its bit set in B's window
    const first = await prove(e1, [2n, 3n]);
    expect(first.credits[0]!.lag).toBe(1n);
    // its bit (0: one epoch before the latest) joins the bits of B's earlier epochs
    expect(second.credits[0]!.leaf.window & 1n).toBe(0n);
    expect(first.credits[0]!.leaf).toMatchObject({
      lastEpoch: packEpoch({ startMs: e2, lengthMs: LENGTH }),
      window: second.credits[0]!.leaf.window | 1n,
    });
    await submit(first);
    tree = first.tree;
    credited(first);
    // and only once: the prover refuses by name, and a witness that pretends e1's bit is clear has no proof
    const again = { readings: chain(keyB, e1, [2n, 3n]), publicKey: keyB.publicKey };
    const epoch1 = { startMs: e1, lengthMs: LENGTH };
    await expect(batchInput({ circuit: batch, wasm, tree, epoch: epoch1, devices: [again] })).rejects.toThrow(
      /already credited for this epoch/,
    );
    const pretend = tree.clone();
    pretend.set({ ...tree.leafAt(keyB.deviceId)!, window: 0n });
    const forged = await batchInput({ circuit: batch, wasm, tree: pretend, epoch: epoch1, devices: [again] });
    const header = { imageId, epoch: packEpoch(epoch1), prevRoot: tree.root, newRoot: forged.tree.root };
    const recs = forged.credits.map((c) => creditOf(c.leaf, c.output, c.lag));
    const r = challengeOf(header, recs);
    const input = {
      ...forged.input,
      prevRoot: tree.root.toString(),
      r: r.toString(),
      S: bindingOf(r, header, recs).toString(),
    };
    await expect(getDefaultPool().prove(input as unknown as CircuitInput, batch.wasm, batch.zkey)).rejects.toThrow(
      ProvingError,
    );
    // the owner's withdrawal pays both epochs (6 + 5 units, and what B earned before unwithdrawn) from the late
    // batch's credit
    const before = await vault.withdrawnOf(imageId, keyB.deviceId);
    const credit = creditIn(first, keyB.deviceId);
    expect(credit.cumulative).toBe(earned + 11n);
    const w = await users[2]!.withdraw({ imageId, deviceId: keyB.deviceId, credit });
    const units = earned + 11n - before;
    expect([w.owner, w.units, w.reward]).toEqual([bob.address, units, units * REWARD]);
    // both epochs are facts, each with its own output
    for (const [p, out] of [
      [second, 6n],
      [first, 5n],
    ] as const) {
      await vault.recordFact({ imageId, deviceId: keyB.deviceId, credit: creditIn(p, keyB.deviceId) });
      expect(await vault.factOf(imageId, keyB.deviceId, p.epoch)).toEqual({ proven: true, output: out });
    }
  });

  it("a revoked key: a batch may still credit it, but no fact and no withdrawal covers an epoch past its window", async () => {
    // C's key is revoked from now; a batcher holding its later readings credits it for an epoch after that
    const now = BigInt((await admin.provider.getBlock("latest"))!.timestamp) * 1000n;
    await revokeKey(carol, { tokenId: keyC.deviceId, fromMs: now });
    const startMs = now - ((now - TEST_GENESIS_MS) % LENGTH) + LENGTH;
    await advance(3 * Number(LENGTH / 1000n));
    const late = await proveBatch({
      circuit: batch,
      wasm,
      tree,
      epoch: { startMs, lengthMs: LENGTH },
      devices: [{ readings: chain(keyC, startMs, [9n]), publicKey: keyC.publicKey }],
    });
    const before = latest.get(keyC.deviceId)!;
    await submit(late);
    tree = late.tree;
    credited(late);
    const credit = creditIn(late, keyC.deviceId);
    await reverted(vault.recordFact({ imageId, deviceId: keyC.deviceId, credit }), "BatchVault__KeyNotValid");
    await reverted(users[3]!.withdraw({ imageId, deviceId: keyC.deviceId, credit }), "BatchVault__KeyNotValid");
    // from the chain: the latest credit inside the key's window is the earlier batch's (already withdrawn)
    const found = await vault.latestCredit(imageId, keyC.deviceId, { validUntilMs: now });
    expect(found?.batch).toBe(before.creditsRoot);
    expect((await vault.latestCredit(imageId, keyC.deviceId))?.batch).toBe(late.creditsRoot);
  });

  it("a key's first credited epoch must lie in its window, for a maker the applet pays: an unregistered key, a rotation's epoch, another maker's key are refused", async () => {
    const keyD = await loadDeviceKey(backend, new Uint8Array(32).fill(44));
    const proveD = (startMs: bigint, inside: bigint[]) =>
      proveBatch({
        circuit: batch,
        wasm,
        tree,
        epoch: { startMs, lengthMs: LENGTH },
        devices: [{ readings: chain(keyD, startMs, inside), publicKey: keyD.publicKey }],
      });
    // not registered: no token, no owner, nobody could ever withdraw it
    const ended = BigInt((await admin.provider.getBlock("latest"))!.timestamp) * 1000n - 2n * LENGTH;
    await reverted(
      submit(await proveD(ended - ((ended - TEST_GENESIS_MS) % LENGTH), [4n])),
      "BatchVault__UnknownDevice",
    );
    // B's token rotates to D in mid-epoch: D signs readings of the rotation epoch, but was not the token's key for all
    // of it (the old key and the new one would each be credited a part of it); a batch crediting D for it would lock
    // every withdrawal of D (each checks the first credited epoch): refused at submission
    const proof = mockRegisterProof(
      registerSignals({
        deviceId: keyD.deviceId,
        owner: bob.address,
        chainId: BigInt(bob.chainId),
        registry: bob.manifest.contracts.DeviceRegistry,
      }),
    );
    await rotateKey(bob, { tokenId: keyB.deviceId, newKeyId: keyD.deviceId, proof });
    // D is valid from the rotation's block time; the epoch running then started before it (or, when the rotation
    // fell on an epoch's start, the epoch before)
    const [, validFromMs] = (await admin.contracts.devices.getFunction("keyOf")(keyB.deviceId)) as [bigint, bigint];
    const running = validFromMs - ((validFromMs - TEST_GENESIS_MS) % LENGTH);
    const rotationEpoch = running === validFromMs ? running - LENGTH : running;
    const next = running + LENGTH;
    await advance(3 * Number(LENGTH / 1000n));
    await reverted(submit(await proveD(rotationEpoch, [3n])), "BatchVault__KeyNotValid");
    // the next epoch is D's first whole one: credited, and withdrawn to bob
    const first = await proveD(next, [4n]);
    await submit(first);
    tree = first.tree;
    credited(first);
    // a late credit of the rotation epoch would move D's first epoch back into it: refused as well
    const late = await proveD(rotationEpoch, [3n]);
    expect(late.credits[0]!).toMatchObject({ lag: (next - rotationEpoch) / LENGTH, leaf: { firstEpoch: late.epoch } });
    await reverted(submit(late), "BatchVault__KeyNotValid");
    const w = await users[0]!.withdraw(withdrawal(keyD.deviceId));
    expect([w.owner, w.units]).toEqual([bob.address, 4n]);

    // a key of a maker the applet does not pay: nobody could withdraw its credit, and it would hold a slot of the
    // tree for good (a squatter's key from any maker could take a device's slot); refused until the applet pays it
    const keyE = await loadDeviceKey(backend, new Uint8Array(32).fill(45));
    await admin.registerDevicesBatch({ deviceIds: [keyE.deviceId], owners: [carol.address] });
    const nowMs = BigInt((await admin.provider.getBlock("latest"))!.timestamp) * 1000n;
    const eEpoch = nowMs - ((nowMs - TEST_GENESIS_MS) % LENGTH);
    await advance(3 * Number(LENGTH / 1000n));
    const proveE = () =>
      proveBatch({
        circuit: batch,
        wasm,
        tree,
        epoch: { startMs: eEpoch, lengthMs: LENGTH },
        devices: [{ readings: chain(keyE, eEpoch, [2n]), publicKey: keyE.publicKey }],
      });
    await admin.sendTx(admin.contracts.applets, "setAppletDevices", [imageId, false, [7], true]);
    await reverted(submit(await proveE()), "BatchVault__DeviceNotAccepted");
    await admin.sendTx(admin.contracts.applets, "setAppletDevices", [imageId, true, [], true]);
    const e = await proveE();
    await submit(e);
    tree = e.tree;
    credited(e);
  });

  it("the earnings tree is rebuilt from the chain alone (events and calldata), leaf for leaf, to the vault's root", async () => {
    const reader = new Contract(vault.address, getArtifact("BatchVault").abi as never, admin.provider);
    const batches = await creditedBatchesOf({
      provider: admin.provider,
      vault: reader,
      address: vault.address,
      imageId,
    });
    expect(batches.length).toBe(latestBatches());
    // read from the vault's deployment block on, in ranges a public node accepts: the same batches 3 blocks a query
    const deployedAt = Number(await reader.getFunction("deployedAt")());
    expect(deployedAt).toBeGreaterThan(0);
    expect(batches[0]!.blockNumber).toBeGreaterThan(deployedAt);
    const paged = await creditedBatchesOf({
      provider: admin.provider,
      vault: reader,
      address: vault.address,
      imageId,
      logRange: 3,
    });
    expect(paged).toEqual(batches);
    const rebuilt = new EarningsTree(DEPTH);
    // a late credit among them (B's): the replay gives its latest epoch and window as the circuit made them
    expect(batches.some((b) => b.credits.some((c) => c.lag > 0n))).toBe(true);
    for (const leaf of replayCredits(batches)) rebuilt.set(leaf);
    expect(rebuilt.root).toBe(await vault.rootOf(imageId));
    expect(rebuilt.root).toBe(tree.root);
  });
});
