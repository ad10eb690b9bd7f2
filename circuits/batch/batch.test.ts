/**
 * The batch prover's refusals, each before any proving work (a batch of more than N devices, a Wasm that is not the
 * circuit's, a key whose tree slot another key holds, a device credited for the epoch already), and the earnings
 * tree against an independent fold of Poseidon over a leaf's path. Real proofs: contracts/batch-vault.test.ts.
 */
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { poseidon2 } from "poseidon-lite/poseidon2";
import { poseidon4 } from "poseidon-lite/poseidon4";
import { describe, expect, it } from "vitest";
import { loadBuiltApplet } from "../../toolchain/index.ts";
import { imageIdHex } from "../../core/index.ts";
import { imageIdOf } from "../../runtime/index.ts";
import { EPOCH, EPOCH_PACKED, deviceKey, epochPoints, makeChain } from "../fixtures.ts";
import type { BatchCircuit } from "./circuit.ts";
import { AlreadyCreditedError, BatchSetupMissingError, BatchSizeError, SlotTakenError } from "./errors.ts";
import { setupBatchCircuit } from "./circuit.ts";
import { batchInput } from "./prove.ts";
import { EarningsTree, rootFrom, slotOf, zeros } from "./tree.ts";

const wasm = loadBuiltApplet("energy-sum");
const circuitFor = (o: { n: number; depth: number }): BatchCircuit => ({
  name: `batch_test_n${o.n}_d${o.depth}`,
  imageId: imageIdHex(imageIdOf(wasm)),
  k: 16,
  n: o.n,
  depth: o.depth,
  hasParam: false,
  key: "",
  dir: "/nonexistent",
  r1cs: "/nonexistent",
  wasm: "/nonexistent",
  zkey: "/nonexistent",
  vkey: "/nonexistent",
  solidity: "/nonexistent",
  constraints: 0,
  domainPower: 0,
  nPublic: 4,
  circomSeconds: 0,
  setupSeconds: 0,
  cacheHit: true,
});

describe("the earnings tree", () => {
  it("roots fold Poseidon(4) leaves up Poseidon(2) paths by the deviceId's low bits", () => {
    const t = new EarningsTree(4);
    expect(t.root).toBe(zeros(4)[4]);
    let z = 0n;
    for (let i = 0; i < 4; i++) z = poseidon2([z, z]);
    expect(t.root).toBe(z);
    const leaves = [
      { deviceId: 0b1011n + (5n << 10n), cumulative: 7n, firstEpoch: 3n, lastEpoch: 9n },
      { deviceId: 0b0110n, cumulative: 1n, firstEpoch: 2n, lastEpoch: 2n },
    ];
    for (const l of leaves) t.set(l);
    for (const l of leaves) {
      const h = poseidon4([l.deviceId, l.cumulative, l.firstEpoch, l.lastEpoch]);
      expect(rootFrom(h, l.deviceId, t.siblings(l.deviceId))).toBe(t.root);
      expect(t.leafAt(l.deviceId)).toEqual(l);
    }
    expect(slotOf(leaves[0]!.deviceId, 4)).toBe(0b1011n);
    const copy = t.clone();
    copy.set({ ...leaves[1]!, cumulative: 2n });
    expect(copy.root).not.toBe(t.root);
  });
});

describe("batchInput refuses", () => {
  it("more devices than N, and a Wasm that is not the circuit's", async () => {
    const key = await deviceKey(51);
    const dev = { readings: await makeChain(key, epochPoints([5n])), publicKey: key.publicKey };
    const circuit = circuitFor({ n: 1, depth: 4 });
    await expect(
      batchInput({ circuit, wasm, tree: new EarningsTree(4), epoch: EPOCH, devices: [dev, dev] }),
    ).rejects.toThrow(BatchSizeError);
    await expect(
      batchInput({
        circuit,
        wasm: loadBuiltApplet("threshold-alert"),
        tree: new EarningsTree(4),
        epoch: EPOCH,
        devices: [dev],
      }),
    ).rejects.toThrow(BatchSizeError);
  });

  it("a key whose slot another key holds, and a device credited for this epoch already", async () => {
    const depth = 1;
    const keys = await Promise.all([52, 53, 54, 55].map((n) => deviceKey(n)));
    const [a, b] = keys.filter((k, _, all) =>
      all.some((o) => o !== k && slotOf(o.deviceId, depth) === slotOf(k.deviceId, depth)),
    );
    const tree = new EarningsTree(depth);
    tree.set({ deviceId: a!.deviceId, cumulative: 5n, firstEpoch: EPOCH_PACKED - 1n, lastEpoch: EPOCH_PACKED - 1n });
    const circuit = circuitFor({ n: 2, depth });
    const dev = async (k: typeof a) => ({ readings: await makeChain(k!, epochPoints([5n])), publicKey: k!.publicKey });
    await expect(batchInput({ circuit, wasm, tree, epoch: EPOCH, devices: [await dev(b)] })).rejects.toThrow(
      SlotTakenError,
    );
    // a's earlier epoch is fine; the same device twice in one batch is not
    await expect(
      batchInput({ circuit, wasm, tree, epoch: EPOCH, devices: [await dev(a), await dev(a)] }),
    ).rejects.toThrow(AlreadyCreditedError);
    tree.set({ deviceId: a!.deviceId, cumulative: 5n, firstEpoch: EPOCH_PACKED, lastEpoch: EPOCH_PACKED });
    await expect(batchInput({ circuit, wasm, tree, epoch: EPOCH, devices: [await dev(a)] })).rejects.toThrow(
      AlreadyCreditedError,
    );
  });
});

describe("setupBatchCircuit", () => {
  it("with cacheOnly refuses to build what is not cached (the bench's N=64), before any compile", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mfi-batch-cache-"));
    try {
      await expect(
        setupBatchCircuit({ wasm, k: 16, n: 64, buildDir: dir, cacheOnly: true, log: () => {} }),
      ).rejects.toThrow(BatchSetupMissingError);
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
