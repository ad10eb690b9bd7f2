/**
 * Proving a batch (issue 26): for each device, the same checks, applet run and witness input as a single compiled
 * claim (prepareAppletClaim), then its credit in the earnings tree in slot order (the circuit's order: devices are
 * sorted here, whatever order the caller gives). Devices already credited for the epoch (or whose latest credited
 * epoch lies more than WINDOW epochs after it), twice in the batch, or whose slot another key holds, are refused
 * before any work; the batch is padded to N with inactive copies
 * of its first device (they satisfy the per-device statement and change no leaf). The credits, their challenge r
 * and binding S (credits.ts) are what BatchVault.submitBatch recomputes from its calldata.
 */
import { imageIdHex } from "../../core/index.ts";
import { deviceIdOf, imageIdToField, packEpoch, type EpochWindow, type PublicKey } from "../../device-sdk/index.ts";
import { imageIdOf } from "../../runtime/index.ts";
import { prepareAppletClaim } from "../compile/prove.ts";
import { getDefaultPool } from "../prover.ts";
import type { ProverPool, RawProof } from "../pool.ts";
import type { G1, G2 } from "../receipt.ts";
import type { ChainReading, CircuitInput } from "../witness.ts";
import type { BatchCircuit } from "./circuit.ts";
import { AlreadyCreditedError, BatchSizeError, SlotTakenError } from "./errors.ts";
import { bindingOf, challengeOf, creditOf, creditsTree, encodeCredits, type CreditRecord } from "./credits.ts";
import { creditEpoch, EarningsTree, slotOf, WINDOW, type EarningsLeaf } from "./tree.ts";

export interface BatchDevice {
  readings: readonly ChainReading[];
  publicKey: PublicKey;
}

export interface BatchCredit {
  deviceId: bigint;
  output: bigint;
  /** The device's leaf after this batch. */
  leaf: EarningsLeaf;
  /** Epochs between this batch's epoch and the leaf's latest credited one (0 unless a late credit). */
  lag: bigint;
}

export interface BatchProof {
  circuit: string;
  imageId: string;
  epoch: bigint;
  prevRoot: bigint;
  newRoot: bigint;
  param?: bigint;
  /** snarkjs order (b's pairs as snarkjs writes them); encodeBatchProof swaps them for the verifier. */
  proof: { a: G1; b: G2; c: G1 };
  publicSignals: bigint[];
  /** In slot order: the order of the proof, of submitBatch's calldata and of the credits tree. */
  credits: BatchCredit[];
  /** submitBatch's `credits` bytes (0x…). */
  creditsData: string;
  /** The keccak Merkle root the vault keeps for this batch (withdrawals name the batch by it). */
  creditsRoot: string;
  /** The tree after the batch: adopt it once the vault has accepted the batch. */
  tree: EarningsTree;
  stats: Omit<RawProof, "proof" | "publicSignals">;
}

export interface ProveBatchOptions {
  circuit: BatchCircuit;
  wasm: Uint8Array;
  /** The applet's earnings tree as the vault's current root commits to it (not modified). */
  tree: EarningsTree;
  epoch: EpochWindow;
  devices: readonly BatchDevice[];
  param?: bigint;
  pool?: ProverPool;
}

/** The witness input and the tree after the batch, without proving (tests feed it to circom's witness calculator). */
export async function batchInput(o: Omit<ProveBatchOptions, "pool">): Promise<{
  input: Record<string, unknown>;
  credits: BatchCredit[];
  tree: EarningsTree;
  prevRoot: bigint;
  creditsData: string;
  creditsRoot: string;
}> {
  const { circuit } = o;
  if (imageIdHex(imageIdOf(o.wasm)) !== circuit.imageId)
    throw new BatchSizeError(`the Wasm is not the batch circuit's applet (${circuit.imageId})`);
  if (o.tree.depth !== circuit.depth)
    throw new BatchSizeError(`the tree has depth ${o.tree.depth}, the circuit ${circuit.depth}`);
  if (o.devices.length < 1 || o.devices.length > circuit.n)
    throw new BatchSizeError(`a batch of ${circuit.name} takes 1 to ${circuit.n} devices, got ${o.devices.length}`, {
      details: "split the epoch's devices into batches of at most N",
    });
  const epoch = packEpoch(o.epoch);
  const tree = o.tree.clone();
  const prevRoot = tree.root;
  const perDevice: CircuitInput[] = [];
  const updates: { fresh: bigint; old: EarningsLeaf; siblings: bigint[]; gap: bigint }[] = [];
  const credits: BatchCredit[] = [];
  const devices = o.devices
    .map((d) => ({ d, deviceId: deviceIdOf(d.publicKey) }))
    .sort((x, y) => (slotOf(x.deviceId, tree.depth) < slotOf(y.deviceId, tree.depth) ? -1 : 1));
  for (let i = 1; i < devices.length; i++) {
    const [x, y] = [devices[i - 1]!.deviceId, devices[i]!.deviceId];
    if (x === y)
      throw new AlreadyCreditedError(`device ${y} is twice in the batch`, {
        details: "a device-epoch is credited once",
      });
    if (slotOf(x, tree.depth) === slotOf(y, tree.depth))
      throw new SlotTakenError(`devices ${x} and ${y} share a tree slot`, {
        details: `both keys share their low ${tree.depth} bits; rotate one device's key to get another slot`,
      });
  }
  for (const { d, deviceId } of devices) {
    const old = tree.leafAt(deviceId);
    if (old && old.deviceId !== deviceId)
      throw new SlotTakenError(`device ${deviceId}'s tree slot holds device ${old.deviceId}`, {
        details: `both keys share their low ${tree.depth} bits; rotate this device's key to get another slot`,
      });
    const epochs = creditEpoch(old, epoch);
    if ("refused" in epochs)
      throw new AlreadyCreditedError(`device ${deviceId} cannot be credited for epoch ${epoch}: ${epochs.refused}`, {
        details: `a device-epoch is credited once; a late epoch within ${WINDOW} epochs of the device's latest credited one`,
      });
    const { claim, input } = await prepareAppletClaim({
      circuit: { name: circuit.name, imageId: circuit.imageId, k: circuit.k, hasParam: circuit.hasParam },
      wasm: o.wasm,
      readings: d.readings,
      devicePublicKey: d.publicKey,
      epoch: o.epoch,
      param: o.param,
    });
    const siblings = tree.siblings(deviceId);
    const fresh = old ? 0n : 1n;
    const prev = old ?? { deviceId, cumulative: 0n, firstEpoch: 0n, lastEpoch: 0n, window: 0n };
    const leaf: EarningsLeaf = {
      deviceId,
      cumulative: prev.cumulative + claim.output,
      firstEpoch: epochs.firstEpoch,
      lastEpoch: epochs.lastEpoch,
      window: epochs.window,
    };
    tree.set(leaf);
    perDevice.push(input);
    updates.push({ fresh, old: prev, siblings, gap: epochs.gap });
    credits.push({ deviceId, output: claim.output, leaf, lag: epochs.lag });
  }
  const records: CreditRecord[] = credits.map((c) => creditOf(c.leaf, c.output, c.lag));
  const header = { imageId: `0x${circuit.imageId}`, epoch, prevRoot, newRoot: tree.root };
  const r = challengeOf(header, records);
  const s = (x: bigint) => x.toString();
  // padding entries (inactive) are copies of the first device's entry
  const at = (i: number) => (i < o.devices.length ? i : 0);
  const per = (key: string) => Array.from({ length: circuit.n }, (_, i) => perDevice[at(i)]![key]!);
  const input: Record<string, unknown> = {
    r: s(r),
    S: s(bindingOf(r, header, records)),
    ...(o.param !== undefined ? { param: perDevice[0]!.param } : {}),
    imageId: s(imageIdToField(circuit.imageId)),
    epoch: s(epoch),
    prevRoot: s(prevRoot),
    newRoot: s(tree.root),
    active: Array.from({ length: circuit.n }, (_, i) => (i < o.devices.length ? "1" : "0")),
    deviceId: per("deviceId"),
    claimOutput: per("claimOutput"),
    ...Object.fromEntries(
      ["Ax", "Ay", "S", "R8x", "R8y", "hasBefore", "beforeSeq", "beforeTs", "beforePrev", "beforeValues"].map((k) => [
        // the signature's S is `sigS` in the batch main: its public S is the binding
        k === "S" ? "sigS" : k,
        per(k),
      ]),
    ),
    enabled: per("enabled"),
    inside: per("inside"),
    ts: per("ts"),
    values: per("values"),
    // an inactive copy repeats its device's old leaf and path under the first root; the circuit ignores both
    fresh: Array.from({ length: circuit.n }, (_, i) => s(updates[at(i)]!.fresh)),
    oldCumulative: Array.from({ length: circuit.n }, (_, i) => s(updates[at(i)]!.old.cumulative)),
    oldFirst: Array.from({ length: circuit.n }, (_, i) => s(updates[at(i)]!.old.firstEpoch)),
    oldLast: Array.from({ length: circuit.n }, (_, i) => s(updates[at(i)]!.old.lastEpoch)),
    oldWindow: Array.from({ length: circuit.n }, (_, i) => s(updates[at(i)]!.old.window)),
    gap: Array.from({ length: circuit.n }, (_, i) => s(updates[at(i)]!.gap)),
    siblings: Array.from({ length: circuit.n }, (_, i) => updates[at(i)]!.siblings.map(s)),
  };
  return {
    input,
    credits,
    tree,
    prevRoot,
    creditsData: encodeCredits(records),
    creditsRoot: creditsTree(records, epoch).root,
  };
}

/** Proves one batch in the prover pool; the proof's public signals are r and S (+ param). */
export async function proveBatch(o: ProveBatchOptions): Promise<BatchProof> {
  const { input, credits, tree, prevRoot, creditsData, creditsRoot } = await batchInput(o);
  const raw = await (o.pool ?? getDefaultPool()).prove(input as CircuitInput, o.circuit.wasm, o.circuit.zkey);
  const { proof: p, publicSignals, ...stats } = raw;
  return {
    circuit: o.circuit.name,
    imageId: o.circuit.imageId,
    epoch: packEpoch(o.epoch),
    prevRoot,
    newRoot: tree.root,
    ...(o.param !== undefined ? { param: BigInt(input.param as string) } : {}),
    proof: {
      a: [BigInt(p.pi_a[0]!), BigInt(p.pi_a[1]!)],
      b: [
        [BigInt(p.pi_b[0]![0]!), BigInt(p.pi_b[0]![1]!)],
        [BigInt(p.pi_b[1]![0]!), BigInt(p.pi_b[1]![1]!)],
      ],
      c: [BigInt(p.pi_c[0]!), BigInt(p.pi_c[1]!)],
    },
    publicSignals: publicSignals.map(BigInt),
    credits,
    creditsData,
    creditsRoot,
    tree,
    stats,
  };
}
