/**
 * The batch prover's refusals, each before any proving work (a batch of more than N devices, a Wasm that is not the
 * circuit's, a key whose tree slot another key holds, a device credited for the epoch already), and the earnings
 * tree against an independent fold of Poseidon over a leaf's path. Real proofs: contracts/batch-vault.test.ts.
 */
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { poseidon2 } from "poseidon-lite/poseidon2";
import { poseidon5 } from "poseidon-lite/poseidon5";
import { describe, expect, it } from "vitest";
import { loadBuiltApplet } from "../../toolchain/index.ts";
import { imageIdHex } from "../../core/index.ts";
import { imageIdOf } from "../../runtime/index.ts";
import { EPOCH, EPOCH_PACKED, deviceKey, epochPoints, makeChain } from "../fixtures.ts";
import type { BatchCircuit } from "./circuit.ts";
import { CircuitsError } from "../errors.ts";
import {
  AlreadyCreditedError,
  BatchSetupMemoryError,
  BatchSetupMissingError,
  BatchSizeError,
  SlotTakenError,
} from "./errors.ts";
import { isCircomOutOfMemory, setupBatchCircuit, setupHeapShortfall } from "./circuit.ts";
import { batchInput } from "./prove.ts";
import { creditEpoch, EarningsTree, rootFrom, slotOf, WINDOW, zeros, type EarningsLeaf } from "./tree.ts";

const UNIT = EPOCH.lengthMs;

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
  simplification: "O2",
  domainPower: 0,
  nPublic: 4,
  circomSeconds: 0,
  setupSeconds: 0,
  cacheHit: true,
});

describe("the earnings tree", () => {
  it("roots fold Poseidon(5) leaves up Poseidon(2) paths by the deviceId's low bits", () => {
    const t = new EarningsTree(4);
    expect(t.root).toBe(zeros(4)[4]);
    let z = 0n;
    for (let i = 0; i < 4; i++) z = poseidon2([z, z]);
    expect(t.root).toBe(z);
    const leaves = [
      { deviceId: 0b1011n + (5n << 10n), cumulative: 7n, firstEpoch: 3n, lastEpoch: 9n, window: 5n },
      { deviceId: 0b0110n, cumulative: 1n, firstEpoch: 2n, lastEpoch: 2n, window: 0n },
    ];
    for (const l of leaves) t.set(l);
    for (const l of leaves) {
      const h = poseidon5([l.deviceId, l.cumulative, l.firstEpoch, l.lastEpoch, l.window]);
      expect(rootFrom(h, l.deviceId, t.siblings(l.deviceId))).toBe(t.root);
      expect(t.leafAt(l.deviceId)).toEqual(l);
    }
    expect(slotOf(leaves[0]!.deviceId, 4)).toBe(0b1011n);
    const copy = t.clone();
    copy.set({ ...leaves[1]!, cumulative: 2n });
    expect(copy.root).not.toBe(t.root);
  });
});

describe("creditEpoch (the circuit's epoch rule)", () => {
  const e = (i: bigint) => EPOCH_PACKED + ((i * UNIT) << 32n);
  const leaf = (lastEpoch: bigint, window: bigint, firstEpoch = e(-10n)): EarningsLeaf => ({
    deviceId: 1n,
    cumulative: 3n,
    firstEpoch,
    lastEpoch,
    window,
  });
  it("ahead: the window moves up by the gap and the old latest epoch takes bit gap − 1; far ahead clears it", () => {
    expect(creditEpoch(undefined, e(0n))).toEqual({
      firstEpoch: e(0n),
      lastEpoch: e(0n),
      window: 0n,
      gap: 0n,
      lag: 0n,
    });
    expect(creditEpoch(leaf(e(0n), 0b1n), e(1n))).toMatchObject({ lastEpoch: e(1n), window: 0b11n, lag: 0n });
    expect(creditEpoch(leaf(e(0n), 0b1n), e(3n))).toMatchObject({
      lastEpoch: e(3n),
      window: 0b1100n,
      gap: 3n,
      lag: 0n,
    });
    // bits past WINDOW drop out
    const top = 1n << (WINDOW - 1n);
    expect(creditEpoch(leaf(e(0n), top | 1n), e(1n))).toMatchObject({ window: 0b11n });
    expect(creditEpoch(leaf(e(0n), 0b1n), e(WINDOW))).toMatchObject({ window: top });
    expect(creditEpoch(leaf(e(0n), 0b1n), e(WINDOW + 1n))).toMatchObject({ window: 0n });
  });
  it("late: within WINDOW epochs and not yet credited, once; the first epoch moves back", () => {
    expect(creditEpoch(leaf(e(5n), 0n), e(3n))).toEqual({
      firstEpoch: e(-10n),
      lastEpoch: e(5n),
      window: 0b10n,
      gap: 2n,
      lag: 2n,
    });
    expect(creditEpoch(leaf(e(5n), 0n, e(4n)), e(3n))).toMatchObject({ firstEpoch: e(3n) });
    expect(creditEpoch(leaf(e(5n), 0b10n), e(3n))).toMatchObject({
      refused: expect.stringMatching(/already credited/),
    });
    expect(creditEpoch(leaf(e(5n), 0n), e(5n))).toMatchObject({ refused: expect.stringMatching(/already credited/) });
    expect(creditEpoch(leaf(e(WINDOW), 0n), e(0n))).toMatchObject({ lag: WINDOW });
    expect(creditEpoch(leaf(e(WINDOW + 1n), 0n), e(0n))).toMatchObject({ refused: expect.stringMatching(/within 64/) });
    // another schedule (length) or a misaligned start
    expect(creditEpoch(leaf(e(5n) + 1n, 0n), e(3n))).toMatchObject({ refused: expect.stringMatching(/schedule/) });
    expect(creditEpoch(leaf(e(5n) + (1n << 32n), 0n), e(3n))).toMatchObject({
      refused: expect.stringMatching(/schedule/),
    });
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
    const before = EPOCH_PACKED - (UNIT << 32n);
    tree.set({ deviceId: a!.deviceId, cumulative: 5n, firstEpoch: before, lastEpoch: before, window: 0n });
    const circuit = circuitFor({ n: 2, depth });
    const dev = async (k: typeof a) => ({ readings: await makeChain(k!, epochPoints([5n])), publicKey: k!.publicKey });
    await expect(batchInput({ circuit, wasm, tree, epoch: EPOCH, devices: [await dev(b)] })).rejects.toThrow(
      SlotTakenError,
    );
    // a's earlier epoch is fine; the same device twice in one batch is not
    await expect(
      batchInput({ circuit, wasm, tree, epoch: EPOCH, devices: [await dev(a), await dev(a)] }),
    ).rejects.toThrow(AlreadyCreditedError);
    tree.set({ deviceId: a!.deviceId, cumulative: 5n, firstEpoch: EPOCH_PACKED, lastEpoch: EPOCH_PACKED, window: 0n });
    await expect(batchInput({ circuit, wasm, tree, epoch: EPOCH, devices: [await dev(a)] })).rejects.toThrow(
      AlreadyCreditedError,
    );
    // credited for a later epoch and, late, for this one already (its window bit)
    const later = EPOCH_PACKED + ((3n * UNIT) << 32n);
    tree.set({ deviceId: a!.deviceId, cumulative: 5n, firstEpoch: before, lastEpoch: later, window: 0b100n });
    await expect(batchInput({ circuit, wasm, tree, epoch: EPOCH, devices: [await dev(a)] })).rejects.toThrow(
      /already credited for this epoch/,
    );
    // more than WINDOW epochs before the latest credited one
    const far = EPOCH_PACKED + (((WINDOW + 1n) * UNIT) << 32n);
    tree.set({ deviceId: a!.deviceId, cumulative: 5n, firstEpoch: before, lastEpoch: far, window: 0n });
    await expect(batchInput({ circuit, wasm, tree, epoch: EPOCH, devices: [await dev(a)] })).rejects.toThrow(
      /a late epoch is credited within 64/,
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

  it("falls back to --O1 only on circom2's out-of-memory failure (its Wasm32 4 GB), not on other failures", () => {
    // as runCircom rejects when circom2 --O2 runs out of memory on N = 64 (seen on this machine)
    const oom = new Error(
      "circom2 failed (exit 1):\ntemplate instances: 337\nmemory allocation of 8328 bytes failed\nRuntimeError: unreachable",
    );
    expect(isCircomOutOfMemory(oom)).toBe(true);
    expect(isCircomOutOfMemory(new Error("circom2 failed (exit 1):\nerror[T3001]: Non quadratic constraints"))).toBe(
      false,
    );
    // a JavaScript heap failure of the setup is not circom's: no recompile
    expect(isCircomOutOfMemory(new Error("memory allocation of 8328 bytes failed"))).toBe(false);
  });

  it("asks for more JavaScript heap before a dev setup that would not fit (V8 ending the process is no error)", () => {
    const gb = 2 ** 30;
    // N = 64 at --O1 (3,609,257 constraints): ran out of a 4 GB heap, set up with 16 GB
    expect(setupHeapShortfall(3_609_257, 4 * gb)).toEqual({ neededMb: 7050, limitMb: 4096 });
    expect(setupHeapShortfall(3_609_257, 16 * gb)).toBeUndefined();
    // N = 8 (213,246 constraints) fits a default heap
    expect(setupHeapShortfall(213_246, 4 * gb)).toBeUndefined();
    const err = new BatchSetupMemoryError("needs about 7050 MB", { details: "NODE_OPTIONS=--max-old-space-size=7050" });
    expect(err).toBeInstanceOf(CircuitsError);
    expect(err.name).toBe("BatchSetupMemoryError");
  });
});
