/**
 * A compiled applet paid on real anvil (issue 18): energy-sum's own Wasm compiled at K=16 (circuits/compile, dev keys
 * cached under build/applet-circuits/), its generated Groth16 verifier compiled and deployed by registerApplet's
 * `{ compiled }` kind, a real snarkjs proof from a signed chain paid once by PayoutVault; a tampered output, the proof
 * under another applet's imageId (even one registered with the same verifiers) and a reading left out are refused.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildJsBackend, loadDeviceKey, packEpoch } from "../device-sdk/index.ts";
import {
  closeProver,
  getDefaultPool,
  poolBackend,
  proveAppletReceipt,
  ProvingError,
  selectSegment,
  toCalldata,
} from "../circuits/index.ts";
import { setupAppletCircuit, type AppletCircuit } from "../circuits/compile/keys.ts";
import { NATIVE_ADDON } from "../circuits/native/loader.ts";
import { appletInput, proveAppletClaim, type AppletProof } from "../circuits/compile/prove.ts";
import { encodeClaimProof, writeManifest, type MachinefiClient } from "../contracts/index.ts";
import { randomImageId, signedEpochChain, startDevnet, TEST_GENESIS_MS, type Devnet } from "../contracts/fixture.ts";
import { reverted } from "../contracts/expect-revert.ts";
import { APPLETS_DIR, loadBuiltApplet } from "../toolchain/index.ts";
import { runInProcess } from "../cli/run-in-process.ts";
import { register as registerDeploy, WORKER_NEXT_STEP } from "../cli/commands/deploy.ts";
import { verifyOnChain } from "../cli/verify-applet.ts";

const K = 16;
const epoch = { startMs: TEST_GENESIS_MS + 60_000n, lengthMs: 60_000n };

/** The vault's proof bytes for a compiled proof: b's coordinate pairs swapped into the verifier's order. */
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

describe("a compiled energy-sum claim on anvil", { timeout: 900_000 }, () => {
  const wasm = loadBuiltApplet("energy-sum");
  let net: Devnet;
  let admin: MachinefiClient, alice: MachinefiClient;
  let circuit: AppletCircuit;

  beforeAll(async () => {
    [net, circuit] = await Promise.all([startDevnet(), setupAppletCircuit({ wasm, k: K, log: (m) => console.log(m) })]);
    [admin, alice] = net.clients as [MachinefiClient, MachinefiClient];
  }, 900_000);
  afterAll(async () => {
    await closeProver();
    await net?.stop();
  });

  it("is paid once through the applet's own verifier; tampering, another applet and a left-out reading revert", async () => {
    const backend = await buildJsBackend();
    const key = await loadDeviceKey(backend, new Uint8Array(32).fill(18));
    const readings = signedEpochChain({ backend, key, epoch, inside: [5n, 7n, 11n] });
    await admin.registerDevicesBatch({ deviceIds: [key.deviceId], owners: alice.address });

    const imageId = `0x${circuit.imageId}`;
    const reg = await admin.registerApplet({
      imageId,
      verifier: { compiled: [{ k: K, name: circuit.name, solidity: readFileSync(circuit.solidity, "utf8") }] },
      rewardPerUnit: 2n,
      epochLengthMs: epoch.lengthMs,
      genesisMs: TEST_GENESIS_MS,
    });
    expect(await admin.verifierOf({ imageId, k: K })).toBe(reg.verifiers[String(K)]);

    const proof = await proveAppletClaim({ circuit, wasm, readings, devicePublicKey: key.publicKey, epoch });
    expect(proof.claim.output).toBe(23n);
    // The pool proved it with the backend it chose: native whenever the addon is built (npm install builds it).
    expect(proof.stats.backend).toBe(poolBackend().backend);
    if (existsSync(NATIVE_ADDON) && process.env.MFI_PROVER !== "snarkjs") expect(proof.stats.backend).toBe("native");
    const claim = { imageId, deviceId: key.deviceId, epoch: packEpoch(epoch), output: 23n, proof: vaultProof(proof) };

    // A tampered output: the vault rebuilds the signals from its arguments, so the proof does not verify.
    await reverted(alice.claim({ ...claim, output: 24n }), "PayoutVault__InvalidProof");
    // A reading left out (7): the output without it is refused on chain, and the prover finds no witness for it.
    await reverted(alice.claim({ ...claim, output: 16n }), "PayoutVault__InvalidProof");
    const full = selectSegment(readings, key.publicKey, epoch);
    const gap = { ...full, slots: full.slots.filter((r) => r.values[0] !== 7n), insideCount: full.insideCount - 1 };
    const input = appletInput({
      circuit,
      segment: gap,
      publicKey: key.publicKey,
      epoch: packEpoch(epoch),
      output: 16n,
    });
    await expect(getDefaultPool().prove(input, circuit.wasm, circuit.zkey)).rejects.toThrow(ProvingError);

    // Another applet, registered even with energy-sum's own verifiers: the circuit pins energy-sum's imageId.
    const other = randomImageId();
    await admin.registerApplet({
      imageId: other,
      verifier: { verifiers: reg.verifiers },
      rewardPerUnit: 2n,
      epochLengthMs: epoch.lengthMs,
      genesisMs: TEST_GENESIS_MS,
    });
    await reverted(alice.claim({ ...claim, imageId: other }), "PayoutVault__InvalidProof");

    const paid = await alice.claim(claim);
    expect(paid.paid.output).toBe(23n);
    expect(paid.paid.reward).toBe(46n);
    expect(paid.paid.owner).toBe(alice.address);
    expect(await alice.balanceOf()).toBe(46n);
    await reverted(alice.claim(claim), "PayoutVault__AlreadyClaimed");
  });

  it("a receipt's calldata (toCalldata) is what the vault pays for the next epoch", async () => {
    const backend = await buildJsBackend();
    const key = await loadDeviceKey(backend, new Uint8Array(32).fill(19));
    const next = { startMs: epoch.startMs + epoch.lengthMs, lengthMs: epoch.lengthMs };
    const readings = signedEpochChain({ backend, key, epoch: next, inside: [100n, 1n] });
    await admin.registerDevicesBatch({ deviceIds: [key.deviceId], owners: alice.address });
    const receipt = await proveAppletReceipt({ circuit, wasm, readings, devicePublicKey: key.publicKey, epoch: next });
    // `mfi verify --rpc`: the verifier AppletRegistry holds for the receipt's K, over signals rebuilt from the registry.
    const registry = net.manifest.contracts.AppletRegistry;
    const onChain = await verifyOnChain({ rpcUrl: net.anvil.rpcUrl, receipt, registry });
    expect(onChain.ok).toBe(true);
    const tampered = { ...receipt, claim: { ...receipt.claim, output: 102n } };
    tampered.publicSignals = [...receipt.publicSignals.slice(0, 3), 102n];
    expect((await verifyOnChain({ rpcUrl: net.anvil.rpcUrl, receipt: tampered, registry })).ok).toBe(false);

    const before = await alice.balanceOf();
    const paid = await alice.claim(toCalldata(receipt));
    console.log(`compiled energy-sum K=16 claim: ${paid.gasUsed} gas`);
    expect(paid.paid.output).toBe(101n);
    expect(await alice.balanceOf()).toBe(before + 202n);
  });

  it("mfi deploy compiles the applet's circuits, deploys a verifier per K and registers them", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mfi-compiled-deploy-"));
    try {
      writeManifest(net.manifest, dir);
      const chain = ["--rpc", net.anvil.rpcUrl, "--key", net.anvil.accounts[0]!, "--deployments", dir, "--json"];
      const mfi = (...args: string[]) => runInProcess([registerDeploy], args);
      const r = await mfi("deploy", join(APPLETS_DIR, "threshold-alert"), ...chain);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      const out = JSON.parse(r.stdout) as { imageId: string; alreadyRegistered: boolean };
      expect(out.alreadyRegistered).toBe(false);
      // A running worker does not see it: the command says what to do (stderr; stdout stays the JSON).
      expect(r.stderr).toContain(WORKER_NEXT_STEP);
      const imageId = `0x${out.imageId}`;
      const info = await admin.appletOf(imageId);
      expect(info).toMatchObject({ hasParam: true, param: 300n });
      const [v16, v64] = await Promise.all([16, 64].map((k) => admin.verifierOf({ imageId, k })));
      expect(v16).not.toBe(v64);
      for (const v of [v16!, v64!]) {
        expect(v).not.toBe(net.manifest.contracts.MockVerifier);
        expect(await admin.provider.getCode(v)).not.toBe("0x");
      }
      // A stateful applet (issue 18) is deployed with its state: registered stateful, its empty state on L1.
      const stateful = await mfi("deploy", join(APPLETS_DIR, "uptime-streak"), ...chain);
      expect(stateful.code, stateful.stdout + stateful.stderr).toBe(0);
      const streakId = `0x${(JSON.parse(stateful.stdout) as { imageId: string }).imageId}`;
      expect(await admin.emptyStateOf(streakId)).not.toBe(0n);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
