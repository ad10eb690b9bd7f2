/**
 * The Wasm Groth16 backend on chain (issue 25): a compiled energy-sum claim proved by a prover pool whose processes
 * use the Wasm prover (MFI_PROVER=wasm, as on a machine where the native build failed) is paid by the vault through
 * the applet's own generated Solidity verifier on anvil; the same proof with a tampered output is refused.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { buildJsBackend, loadDeviceKey, packEpoch } from "../device-sdk/index.ts";
import { ProverPool } from "../circuits/index.ts";
import { setupAppletCircuit, type AppletCircuit } from "../circuits/compile/keys.ts";
import { proveAppletClaim, type AppletProof } from "../circuits/compile/prove.ts";
import { encodeClaimProof, type MachinefiClient } from "../contracts/index.ts";
import { signedEpochChain, startDevnet, TEST_GENESIS_MS, type Devnet } from "../contracts/fixture.ts";
import { reverted } from "../contracts/expect-revert.ts";
import { loadBuiltApplet } from "../toolchain/index.ts";

const K = 16;
const epoch = { startMs: TEST_GENESIS_MS + 60_000n, lengthMs: 60_000n };

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

describe("a claim proved by the Wasm backend on anvil", { timeout: 900_000 }, () => {
  const wasm = loadBuiltApplet("energy-sum");
  let net: Devnet;
  let circuit: AppletCircuit;
  let pool: ProverPool;
  const saved = process.env.MFI_PROVER;

  beforeAll(async () => {
    // The pool decides its backend when it starts a proving process, from this process's MFI_PROVER.
    process.env.MFI_PROVER = "wasm";
    pool = new ProverPool(1);
    [net, circuit] = await Promise.all([startDevnet(), setupAppletCircuit({ wasm, k: K, log: () => {} })]);
  }, 900_000);
  afterAll(async () => {
    if (saved === undefined) delete process.env.MFI_PROVER;
    else process.env.MFI_PROVER = saved;
    await pool?.close();
    await net?.stop();
  });

  it("is paid through the applet's generated verifier; a tampered output is refused", async () => {
    const [admin, alice] = net.clients as [MachinefiClient, MachinefiClient];
    const backend = await buildJsBackend();
    const key = await loadDeviceKey(backend, new Uint8Array(32).fill(27));
    const readings = signedEpochChain({ backend, key, epoch, inside: [4n, 9n, 13n] });
    await admin.registerDevicesBatch({ deviceIds: [key.deviceId], owners: alice.address });
    const imageId = `0x${circuit.imageId}`;
    await admin.registerApplet({
      imageId,
      verifier: { compiled: [{ k: K, name: circuit.name, solidity: readFileSync(circuit.solidity, "utf8") }] },
      rewardPerUnit: 3n,
      epochLengthMs: epoch.lengthMs,
      genesisMs: TEST_GENESIS_MS,
    });

    const proof = await proveAppletClaim({ circuit, wasm, readings, devicePublicKey: key.publicKey, epoch, pool });
    expect(proof.stats.backend).toBe("wasm");
    expect(proof.claim.output).toBe(26n);
    const claim = { imageId, deviceId: key.deviceId, epoch: packEpoch(epoch), output: 26n, proof: vaultProof(proof) };
    await reverted(alice.claim({ ...claim, output: 27n }), "PayoutVault__InvalidProof");
    const paid = await alice.claim(claim);
    expect(paid.paid.reward).toBe(78n);
    expect(await alice.balanceOf()).toBe(78n);
  });
});
