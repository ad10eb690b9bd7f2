/**
 * PayoutVault.claimStateful on real anvil with real proofs (issue 18, stateful applets): uptime-streak compiled at
 * K = 16 with its state committed (dev keys cached under build/applet-circuits/), registered stateful. Two
 * consecutive epochs are paid with the state carried on chain; a skipped epoch starts from the stored state. Attacks:
 * a proof made from an invented state, the same proof with the stored stateIn claimed, a replay, an epoch before
 * the stored one, the stateless entry for a stateful applet and the stateful entry for a stateless one.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { buildJsBackend, loadDeviceKey, packEpoch, type EpochWindow } from "../device-sdk/index.ts";
import { closeProver } from "../circuits/index.ts";
import { setupAppletCircuit, type AppletCircuit } from "../circuits/compile/keys.ts";
import { proveAppletClaim, type AppletProof } from "../circuits/compile/prove.ts";
import { emptyStateCommitment, stateCommitment } from "../circuits/compile/index.ts";
import { encodeClaimProof, type MachinefiClient } from "./index.ts";
import { randomImageId, signedEpochChain, startDevnet, TEST_GENESIS_MS, type Devnet } from "./fixture.ts";
import { reverted } from "./expect-revert.ts";
import { batchVaultClient } from "./batch.ts";
import { loadBuiltApplet } from "../toolchain/index.ts";

const K = 16;
const LEN = 60_000n;
const epochAt = (i: bigint): EpochWindow => ({ startMs: TEST_GENESIS_MS + i * LEN, lengthMs: LEN });
const hex = (s: string) => Buffer.from(s).toString("hex");
const u64 = (v: bigint) => Buffer.from(new BigUint64Array([v]).buffer).toString("hex");

/** The vault's proof bytes: b's coordinate pairs swapped into the verifier's order. */
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
const calldata = (p: AppletProof) => ({
  imageId: p.claim.imageId,
  deviceId: p.claim.deviceId,
  epoch: p.claim.epoch,
  output: p.claim.output,
  stateIn: p.claim.stateIn!,
  stateOut: p.claim.stateOut!,
  proof: vaultProof(p),
});

describe("PayoutVault.claimStateful: uptime-streak's state carried on chain", { timeout: 900_000 }, () => {
  const wasm = loadBuiltApplet("uptime-streak");
  let net: Devnet;
  let admin: MachinefiClient, alice: MachinefiClient;
  let circuit: AppletCircuit;

  beforeAll(async () => {
    [net, circuit] = await Promise.all([
      startDevnet(),
      setupAppletCircuit({ wasm, k: K, hasParam: true, stateful: true, log: (m) => console.log(m) }),
    ]);
    [admin, alice] = net.clients as [MachinefiClient, MachinefiClient];
  }, 900_000);
  afterAll(async () => {
    await closeProver();
    await net?.stop();
  });

  it("registry: the empty states are the compiler's, set once, 1..8 keys", async () => {
    const applets = admin.contracts.applets;
    const keys = ["a", "b", "c", "d", "e", "f", "g", "h"].map(hex);
    for (let m = 1; m <= 8; m++)
      expect(await applets.getFunction("emptyStateFor")(m)).toBe(emptyStateCommitment(keys.slice(0, m)));
    const imageId = randomImageId();
    await admin.registerApplet({ imageId, verifier: "mock", rewardPerUnit: 1n, genesisMs: TEST_GENESIS_MS });
    await reverted(admin.setStateful({ imageId, stateKeys: 0 }), "AppletRegistry__BadStateKeys");
    await reverted(admin.setStateful({ imageId, stateKeys: 9 }), "AppletRegistry__BadStateKeys");
    await reverted(admin.setStateful({ imageId: randomImageId(), stateKeys: 2 }), "AppletRegistry__UnknownApplet");
    await reverted(alice.setStateful({ imageId, stateKeys: 2 }), "AccessControlUnauthorizedAccount");
    await admin.setStateful({ imageId, stateKeys: 2 });
    expect(await admin.emptyStateOf(imageId)).toBe(emptyStateCommitment(keys.slice(0, 2)));
    await reverted(admin.setStateful({ imageId, stateKeys: 3 }), "AppletRegistry__AlreadyStateful");
  });

  it("registry: a stateful applet never gets a batch vault, a batched applet never becomes stateful", async () => {
    // batches credit devices with no state check: the two ways of paying exclude each other (any contract will do as
    // the vault here: the registry refuses before using it)
    const batches = batchVaultClient({
      rpcUrl: net.anvil.rpcUrl,
      privateKey: net.anvil.accounts[0]!,
      manifest: net.manifest,
      address: net.manifest.contracts.PayoutVault,
    });
    try {
      const stateful = randomImageId();
      await admin.registerApplet({
        imageId: stateful,
        verifier: "mock",
        rewardPerUnit: 1n,
        genesisMs: TEST_GENESIS_MS,
      });
      await admin.setStateful({ imageId: stateful, stateKeys: 2 });
      await reverted(batches.enableBatches(stateful), "AppletRegistry__StatefulApplet");
      const batched = randomImageId();
      await admin.registerApplet({ imageId: batched, verifier: "mock", rewardPerUnit: 1n, genesisMs: TEST_GENESIS_MS });
      await batches.enableBatches(batched);
      const e = await reverted(admin.setStateful({ imageId: batched, stateKeys: 2 }), "AppletRegistry__BatchedApplet");
      expect(String(e.args[1]).toLowerCase()).toBe(net.manifest.contracts.PayoutVault.toLowerCase());
      expect(await admin.emptyStateOf(batched)).toBe(0n);
    } finally {
      batches.wallet.provider?.destroy();
    }
  });

  it("pays consecutive epochs with the state carried; invented states, replays and the wrong entry are refused", async () => {
    expect(circuit.nPublic).toBe(7);
    const keys = circuit.stateKeys!;
    const backend = await buildJsBackend();
    const key = await loadDeviceKey(backend, new Uint8Array(32).fill(181));
    await admin.registerDevicesBatch({ deviceIds: [key.deviceId], owners: alice.address });
    const imageId = `0x${circuit.imageId}`;
    await admin.registerApplet({
      imageId,
      verifier: { compiled: [{ k: K, name: circuit.name, solidity: readFileSync(circuit.solidity, "utf8") }] },
      rewardPerUnit: 5n,
      param: 0n,
      epochLengthMs: LEN,
      genesisMs: TEST_GENESIS_MS,
      stateKeys: keys.length,
    });
    const empty = emptyStateCommitment(keys);
    expect(await admin.emptyStateOf(imageId)).toBe(empty);
    expect(await alice.stateOf({ imageId, deviceId: key.deviceId })).toEqual({ state: empty, lastEpoch: 0n });

    const prove = (i: bigint, state?: Record<string, string>) => {
      const epoch = epochAt(i);
      const readings = signedEpochChain({ backend, key, epoch, inside: [1n, 2n, 3n] });
      return proveAppletClaim({ circuit, wasm, readings, devicePublicKey: key.publicKey, epoch, param: 0n, state });
    };

    // Epoch 1, the device's first claim: from the empty state.
    const first = await prove(1n);
    expect(first.claim.stateIn).toBe(empty);
    // The stateless entry for a stateful applet: named (its verifier has no 4/5-signal entry).
    await reverted(alice.claim(calldata(first)), "PayoutVault__StatefulApplet");
    const paid = await alice.claimStateful(calldata(first));
    console.log(`claimStateful uptime-streak K=16, first claim of the device: ${paid.gasUsed} gas`);
    expect(paid.paid.output).toBe(3n);
    expect(paid.paid.reward).toBe(15n);
    expect(await alice.stateOf({ imageId, deviceId: key.deviceId })).toEqual({
      state: first.claim.stateOut,
      lastEpoch: packEpoch(epochAt(1n)),
    });
    // Replay: the nullifier is spent.
    await reverted(alice.claimStateful(calldata(first)), "PayoutVault__AlreadyClaimed");

    // Epoch 2 from an invented state (a streak of 40 that was never paid): its stateIn is not the stored one.
    const forged = { [hex("streak")]: u64(40n), [hex("best")]: u64(40n) };
    const invented = await prove(2n, forged);
    expect(invented.claim.stateIn).toBe(stateCommitment(keys, forged));
    const mismatch = await reverted(alice.claimStateful(calldata(invented)), "PayoutVault__StateMismatch");
    expect(mismatch.args[3]).toBe(first.claim.stateOut);
    // ... and claiming the stored stateIn with that proof does not verify: the vault rebuilds the signals.
    await reverted(
      alice.claimStateful({ ...calldata(invented), stateIn: first.claim.stateOut! }),
      "PayoutVault__InvalidProof",
    );
    // From the empty state again (as if the first epoch never was): refused the same way.
    const fresh = await prove(2n);
    await reverted(alice.claimStateful(calldata(fresh)), "PayoutVault__StateMismatch");

    // Epoch 2 from the state epoch 1 left: paid, the streak carried.
    const second = await prove(2n, first.stateAfter);
    expect(second.claim.stateIn).toBe(first.claim.stateOut);
    expect(second.stateAfter![hex("streak")]).toBe(u64(2n));
    const paid2 = await alice.claimStateful(calldata(second));
    console.log(`claimStateful uptime-streak K=16, next epoch: ${paid2.gasUsed} gas`);
    expect(paid2.paid.output).toBe(3n);
    expect(await alice.balanceOf()).toBe(30n);

    // Epoch 3 is never claimed; epoch 4 starts from the stored state (epoch 2's stateOut).
    const third = await prove(3n, second.stateAfter);
    const fourth = await prove(4n, second.stateAfter);
    await alice.claimStateful(calldata(fourth));
    expect((await alice.stateOf({ imageId, deviceId: key.deviceId })).state).toBe(fourth.claim.stateOut);
    // Epoch 3 now comes after the stored epoch 4: the state only moves forward.
    await reverted(alice.claimStateful(calldata(third)), "PayoutVault__EpochNotAfterState");
    expect(await alice.factOf({ imageId, deviceId: key.deviceId, epoch: packEpoch(epochAt(2n)) })).toEqual({
      proven: true,
      output: 3n,
    });
  });

  it("the stateful entry refuses a stateless applet by name", async () => {
    const imageId = randomImageId();
    await admin.registerApplet({
      imageId,
      verifier: "mock",
      rewardPerUnit: 1n,
      epochLengthMs: LEN,
      genesisMs: TEST_GENESIS_MS,
    });
    const backend = await buildJsBackend();
    const key = await loadDeviceKey(backend, new Uint8Array(32).fill(182));
    await admin.registerDevicesBatch({ deviceIds: [key.deviceId], owners: alice.address });
    const c = {
      imageId,
      deviceId: key.deviceId,
      epoch: packEpoch(epochAt(1n)),
      output: 1n,
      stateIn: 1n,
      stateOut: 2n,
      proof: encodeClaimProof({
        k: 16,
        a: [0n, 0n],
        b: [
          [0n, 0n],
          [0n, 0n],
        ],
        c: [0n, 0n],
      }),
    };
    await reverted(alice.claimStateful(c), "PayoutVault__NotStateful");
  });
});
