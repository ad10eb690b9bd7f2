/**
 * A stateful compiled applet's real proof (issue 18, second milestone): uptime-streak at K = 16 with its state
 * committed. Two consecutive epochs: the first from the empty state, the second from the state the first run left;
 * both proofs verify with their stateIn/stateOut public signals, the second's stateIn is the first's stateOut, and a
 * proof does not verify for an invented stateIn or stateOut.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { packEpoch } from "../device-sdk/index.ts";
import { EPOCH, deviceKey, epochPoints, makeChain } from "../circuits/fixtures.ts";
import { closeProver } from "../circuits/prover.ts";
import { setupAppletCircuit, type AppletCircuit } from "../circuits/compile/keys.ts";
import { proveAppletClaim, verifyAppletProof } from "../circuits/compile/prove.ts";
import { emptyStateCommitment, stateCommitment } from "../circuits/compile/index.ts";
import { loadBuiltApplet } from "../toolchain/index.ts";

const K = 16;
const u64 = (v: bigint) => Buffer.from(new BigUint64Array([v]).buffer).toString("hex");

describe("uptime-streak's real proof with its state committed (K = 16)", { timeout: 900_000 }, () => {
  const wasm = loadBuiltApplet("uptime-streak");
  let circuit: AppletCircuit;

  beforeAll(async () => {
    circuit = await setupAppletCircuit({ wasm, k: K, hasParam: true, stateful: true, log: (m) => console.log(m) });
    console.log(`uptime-streak K=${K}: ${circuit.constraints} constraints, nPublic ${circuit.nPublic}`);
  }, 900_000);
  afterAll(() => closeProver());

  it("two consecutive epochs prove and verify, the second starting from the first's stateOut", async () => {
    expect(circuit.nPublic).toBe(7);
    const keys = circuit.stateKeys!;
    const key = await deviceKey(18);
    const chain = await makeChain(key, epochPoints([1n, 1n, 1n]));
    const first = await proveAppletClaim({
      circuit,
      wasm,
      readings: chain,
      devicePublicKey: key.publicKey,
      epoch: EPOCH,
      param: 0n,
    });
    expect(first.claim.output).toBe(3n);
    expect(first.claim.stateIn).toBe(emptyStateCommitment(keys));
    expect(first.stateAfter).toEqual({
      [Buffer.from("streak").toString("hex")]: u64(1n),
      [Buffer.from("best").toString("hex")]: u64(1n),
    });
    expect(first.claim.stateOut).toBe(stateCommitment(keys, first.stateAfter));
    expect(first.publicSignals.slice(1)).toEqual([
      key.deviceId,
      packEpoch(EPOCH),
      3n,
      0n,
      first.claim.stateIn,
      first.claim.stateOut,
    ]);
    expect(await verifyAppletProof({ circuit, claim: first.claim, proof: first.proof })).toBe(true);

    const second = await proveAppletClaim({
      circuit,
      wasm,
      readings: chain,
      devicePublicKey: key.publicKey,
      epoch: EPOCH,
      param: 0n,
      state: first.stateAfter,
    });
    console.log(`uptime-streak K=${K} proof: ${(second.stats.totalMs / 1000).toFixed(2)} s`);
    expect(second.claim.stateIn).toBe(first.claim.stateOut);
    expect(second.stateAfter![Buffer.from("streak").toString("hex")]).toBe(u64(2n));
    expect(await verifyAppletProof({ circuit, claim: second.claim, proof: second.proof })).toBe(true);

    // An invented stateIn (the empty state's, as if the streak had never been) or stateOut does not verify.
    expect(
      await verifyAppletProof({
        circuit,
        claim: { ...second.claim, stateIn: emptyStateCommitment(keys) },
        proof: second.proof,
      }),
    ).toBe(false);
    expect(
      await verifyAppletProof({
        circuit,
        claim: { ...second.claim, stateOut: second.claim.stateIn },
        proof: second.proof,
      }),
    ).toBe(false);
  });
});
