/**
 * A compiled applet end to end (issue 18): energy-sum's own Wasm compiled at K=16, its dev keys set up (cached under
 * build/applet-circuits/), a real Groth16 proof from a signed chain that verifies, and the ways it must not: a
 * tampered output, another applet's imageId, a reading left out of the chain.
 */
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { join } from "node:path";
import { genesisHash, hashReading, packEpoch, type DeviceKey } from "../device-sdk/index.ts";
import { EPOCH, backend, deviceKey, epochPoints, makeChain } from "../circuits/fixtures.ts";
import type { ChainReading } from "../circuits/witness.ts";
import { compileApplet as compileAs } from "../toolchain/index.ts";
import { closeProver, getDefaultPool } from "../circuits/prover.ts";
import { ProvingError, SegmentError } from "../circuits/errors.ts";
import { selectSegment } from "../circuits/witness.ts";
import { setupAppletCircuit, type AppletCircuit } from "../circuits/compile/keys.ts";
import { appletInput, proveAppletClaim, verifyAppletProof, type AppletProof } from "../circuits/compile/prove.ts";
import { loadBuiltApplet } from "../toolchain/index.ts";
import {
  proveAppletReceipt,
  receiptFromJSON,
  receiptToJSON,
  verifyReceipt,
  ClaimMismatchError,
  ReceiptFormatError,
  ReceiptMismatchError,
  type Receipt,
} from "../circuits/index.ts";

const K = 16;
// values[0] of inside readings must lie in [0, 2^63): ReadingsChain checks it for the reducers (issue 16), and the
// compiled main reuses ReadingsChain unchanged (docs/circuits.md, "Compiled applets").
const inside = [120n, 7n, 0n, 1n << 40n, 55n];

describe("a compiled applet's real proof (energy-sum, K = 16)", { timeout: 600_000 }, () => {
  const wasm = loadBuiltApplet("energy-sum");
  let circuit: AppletCircuit;
  let proof: AppletProof;

  beforeAll(async () => {
    const t0 = performance.now();
    circuit = await setupAppletCircuit({ wasm, k: K, log: (m) => console.log(m) });
    console.log(
      `energy-sum K=${K}: ${circuit.constraints} constraints; ${((performance.now() - t0) / 1000).toFixed(1)} s this run (${circuit.cacheHit ? "cache hit" : "built"}); first build: applet compiler ${circuit.compileAppletSeconds.toFixed(2)} s, circom ${circuit.circomSeconds.toFixed(1)} s, setup ${circuit.setupSeconds.toFixed(1)} s`,
    );
  }, 600_000);
  afterAll(() => closeProver());

  it("has the claim's four public signals and a second setup is a cache hit", async () => {
    expect(circuit.nPublic).toBe(4);
    expect(circuit.imageId).toBe(createHash("sha256").update(wasm).digest("hex"));
    const again = await setupAppletCircuit({ wasm, k: K, log: () => {} });
    expect(again.cacheHit).toBe(true);
    expect(again.key).toBe(circuit.key);
  });

  it("proves the runtime's claim from a signed chain, and the proof verifies", async () => {
    const key = await deviceKey(18);
    const chain = await makeChain(key, epochPoints(inside));
    proof = await proveAppletClaim({ circuit, wasm, readings: chain, devicePublicKey: key.publicKey, epoch: EPOCH });
    console.log(
      `energy-sum K=${K} proof: ${(proof.stats.totalMs / 1000).toFixed(2)} s (witness ${proof.stats.witnessMs.toFixed(0)} ms)`,
    );
    expect(proof.claim.output).toBe(inside.reduce((a, b) => a + b));
    expect(proof.publicSignals.slice(1)).toEqual([key.deviceId, packEpoch(EPOCH), proof.claim.output]);
    expect(await verifyAppletProof({ circuit, claim: proof.claim, proof: proof.proof })).toBe(true);
  });

  it("a tampered output does not verify, and the prover finds no witness for it", async () => {
    expect(
      await verifyAppletProof({
        circuit,
        claim: { ...proof.claim, output: proof.claim.output + 1n },
        proof: proof.proof,
      }),
    ).toBe(false);
    const key = await deviceKey(18);
    const chain = await makeChain(key, epochPoints(inside));
    const segment = selectSegment(chain, key.publicKey, EPOCH);
    const input = appletInput({
      circuit,
      segment,
      publicKey: key.publicKey,
      epoch: packEpoch(EPOCH),
      output: proof.claim.output + 1n,
    });
    await expect(getDefaultPool().prove(input, circuit.wasm, circuit.zkey)).rejects.toThrow(ProvingError);
  });

  it("the proof does not verify as another applet's (threshold-alert's imageId)", async () => {
    const other = "0x" + createHash("sha256").update(loadBuiltApplet("threshold-alert")).digest("hex");
    expect(await verifyAppletProof({ circuit, claim: { ...proof.claim, imageId: other }, proof: proof.proof })).toBe(
      false,
    );
  });

  it("a reading left out: the segment is refused, and a witness without it does not exist", async () => {
    const key = await deviceKey(18);
    const chain = await makeChain(key, epochPoints(inside));
    // chain[0] is the reading before the epoch; chain[2] is the second inside one (7).
    const gap = chain.filter((_, i) => i !== 2);
    expect(() => selectSegment(gap, key.publicKey, EPOCH)).toThrow(SegmentError);
    const full = selectSegment(chain, key.publicKey, EPOCH);
    const segment = {
      ...full,
      slots: full.slots.filter((r) => r.seq !== chain[2]!.seq),
      insideCount: full.insideCount - 1,
    };
    const input = appletInput({
      circuit,
      segment,
      publicKey: key.publicKey,
      epoch: packEpoch(EPOCH),
      output: proof.claim.output - 7n,
    });
    await expect(getDefaultPool().prove(input, circuit.wasm, circuit.zkey)).rejects.toThrow(ProvingError);
  });
});

/** A chain whose readings carry humidity in values[1]: one before the epoch, the inside ones, one signed after it. */
async function humidityChain(key: DeviceKey, humidity: bigint[]): Promise<ChainReading[]> {
  const b = await backend();
  const ts = [
    EPOCH.startMs - 5000n,
    ...humidity.map((_, i) => EPOCH.startMs + BigInt(i) * 1000n),
    EPOCH.startMs + EPOCH.lengthMs,
  ];
  const hs = [0n, ...humidity, 0n];
  let prev = genesisHash(key.deviceId);
  return ts.map((t, i) => {
    const r = { deviceId: key.deviceId, seq: BigInt(i + 1), ts: t, values: [0n, hs[i]!, 0n, 0n], prev };
    prev = hashReading(r);
    return { ...r, signature: i === ts.length - 1 ? b.sign(key.privateKey, prev) : null };
  });
}

describe("a compiled applet with a param: humidity-band (K = 16)", { timeout: 600_000 }, () => {
  afterAll(() => closeProver());

  it("proves with the param as a public signal; another param does not verify", async () => {
    const wasm = (
      await compileAs({
        entry: join(import.meta.dirname, "..", "circuits", "compile", "fixtures", "assembly", "humidity-band.ts"),
      })
    ).wasm;
    const circuit = await setupAppletCircuit({ wasm, k: K, hasParam: true, log: (m) => console.log(m) });
    expect(circuit.nPublic).toBe(5);
    const key = await deviceKey(19);
    // Target 500 (50.0 %RH): 430 and 600 are in the band [400, 600], 399 and 601 are not; 4 of 6, no bonus.
    const chain = await humidityChain(key, [430n, 399n, 600n, 601n, 500n, 455n]);
    const p = await proveAppletClaim({
      circuit,
      wasm,
      readings: chain,
      devicePublicKey: key.publicKey,
      epoch: EPOCH,
      param: 500n,
    });
    expect(p.claim.output).toBe(4n);
    expect(p.publicSignals[4]).toBe(500n);
    expect(await verifyAppletProof({ circuit, claim: p.claim, proof: p.proof })).toBe(true);
    expect(await verifyAppletProof({ circuit, claim: { ...p.claim, param: 501n }, proof: p.proof })).toBe(false);
  });
});

describe("a compiled applet's receipt (energy-sum, K = 16)", { timeout: 600_000 }, () => {
  const wasm = loadBuiltApplet("energy-sum");
  let receipt: Receipt;
  afterAll(() => closeProver());

  it("names its compiled circuit and content hash, round-trips as JSON and verifies against the applet's Wasm", async () => {
    const circuit = await setupAppletCircuit({ wasm, k: K, log: () => {} });
    const key = await deviceKey(18);
    const chain = await makeChain(key, epochPoints(inside));
    const args = { circuit, wasm, readings: chain, devicePublicKey: key.publicKey, epoch: EPOCH };
    await expect(proveAppletReceipt({ ...args, claim: 1n })).rejects.toThrow(ClaimMismatchError);
    receipt = receiptFromJSON(receiptToJSON(await proveAppletReceipt({ ...args, journalDigest: "ab".repeat(32) })));
    expect(receipt.seal).toMatchObject({ circuit: circuit.name, k: K, key: circuit.key });
    expect(receipt.claim.reducer).toBeUndefined();
    expect(receipt.claim.output).toBe(inside.reduce((a, b) => a + b));
    expect(receipt.segment).toMatchObject({ firstSeq: chain[1]!.seq, insideCount: inside.length });
    expect(await verifyReceipt(receipt, { applet: { wasm, log: () => {} } })).toBe(true);
  });

  it("never verifies against another applet, a reducer, another param, a forged key or a tampered output", async () => {
    const applet = { wasm, log: () => {} };
    await expect(
      verifyReceipt(receipt, { applet: { wasm: loadBuiltApplet("threshold-alert"), log: () => {} } }),
    ).rejects.toThrow(ReceiptMismatchError);
    await expect(
      verifyReceipt(receipt, { applet: { imageId: receipt.claim.imageId, reducer: "sum" } }),
    ).rejects.toThrow(ReceiptMismatchError);
    await expect(verifyReceipt(receipt, { applet: { ...applet, param: 3n } })).rejects.toThrow(ReceiptMismatchError);
    const forged = { ...receipt, seal: { ...receipt.seal, key: "0".repeat(64) } };
    await expect(verifyReceipt(forged, { applet })).rejects.toThrow(ReceiptMismatchError);
    const k64 = { ...receipt, seal: { ...receipt.seal, k: 64 } };
    await expect(verifyReceipt(k64, { applet })).rejects.toThrow(ReceiptMismatchError);
    const output = receipt.claim.output + 1n;
    const tampered = { ...receipt, claim: { ...receipt.claim, output } };
    expect(await verifyReceipt(tampered, { applet })).toBe(false);
    const signals = [...receipt.publicSignals.slice(0, 3), output];
    expect(await verifyReceipt({ ...tampered, publicSignals: signals }, { applet })).toBe(false);
  });

  it("a malformed compiled receipt is refused when read", () => {
    const json = JSON.parse(receiptToJSON(receipt)) as { seal: { key?: string }; claim: { reducer?: string } };
    expect(() => receiptFromJSON({ ...json, seal: { ...json.seal, key: "xyz" } })).toThrow(ReceiptFormatError);
    expect(() => receiptFromJSON({ ...json, claim: { ...json.claim, reducer: "sum" } })).toThrow(ReceiptFormatError);
  });
});
