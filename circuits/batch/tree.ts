/**
 * The earnings state of one applet in batch mode (issue 26): a sparse Merkle tree of depth D over Poseidon(2), one
 * leaf per device key at index `deviceId mod 2^D` (the circuit derives the index from the deviceId's bits, so a key
 * has exactly one slot and can never be credited in two). A leaf is Poseidon(deviceId, cumulative, firstEpoch,
 * lastEpoch, window): the device's cumulative output units for the applet, the first and the latest epochs credited,
 * and which of the WINDOW epochs before the latest were credited too (bit j: the epoch j + 1 epochs before it). An
 * empty slot is 0. The circuit (circuit.ts) hashes exactly this way; the vault stores only the root.
 *
 * The window is what lets an epoch be credited late, in any order, and still once: a device left out of epoch e
 * (late data, or a batcher that skipped it) is credited for e by a later batch even after e + 1 was credited, as long
 * as e lies within WINDOW epochs of the device's latest credited epoch. Without it a batcher crediting e + 1 first
 * would take epoch e from the device for good.
 */
import { poseidon2 } from "poseidon-lite/poseidon2";
import { poseidon5 } from "poseidon-lite/poseidon5";

/** Epochs before a device's latest credited one that may still be credited (late): the circuit's W. */
export const WINDOW = 64n;

export interface EarningsLeaf {
  deviceId: bigint;
  /** Sum of the outputs credited so far (units; the vault pays units × rewardPerUnit at withdrawal). */
  cumulative: bigint;
  /** Packed epoch of the first credit (the vault checks the key was the token's key from its start). */
  firstEpoch: bigint;
  /** Packed epoch of the latest credit (the credits of a device's epochs may come in any order). */
  lastEpoch: bigint;
  /** Bit j set: the epoch j + 1 epochs before lastEpoch was credited too (WINDOW bits). */
  window: bigint;
}

export const leafHash = (l: EarningsLeaf): bigint =>
  poseidon5([l.deviceId, l.cumulative, l.firstEpoch, l.lastEpoch, l.window]);

/** What crediting an epoch does to a leaf's epochs, as the circuit computes it; `gap` is the circuit's witness, the
 * epochs between the leaf's latest and the credited one either way (0 for a new leaf), and `lag` the gap of a late
 * credit (0 otherwise). */
export interface EpochCredit {
  firstEpoch: bigint;
  lastEpoch: bigint;
  window: bigint;
  gap: bigint;
  lag: bigint;
}

/**
 * The leaf's epochs after crediting `epoch` (packed, on the applet's schedule), or why the epoch cannot be credited:
 * it already was, or it lies more than WINDOW epochs before the latest credited one. The circuit's EarningsUpdate
 * computes the same (it has no witness where this refuses).
 */
export function creditEpoch(old: EarningsLeaf | undefined, epoch: bigint): EpochCredit | { refused: string } {
  if (!old) return { firstEpoch: epoch, lastEpoch: epoch, window: 0n, gap: 0n, lag: 0n };
  const len = epoch & 0xffffffffn;
  const unit = len << 32n;
  const dist = epoch > old.lastEpoch ? epoch - old.lastEpoch : old.lastEpoch - epoch;
  if (len === 0n || (old.lastEpoch & 0xffffffffn) !== len || dist % unit !== 0n)
    return { refused: `epoch ${epoch} is not on the schedule of the device's credited epoch ${old.lastEpoch}` };
  const gap = dist / unit;
  if (epoch > old.lastEpoch) {
    // the latest epoch moves up by gap: the old latest becomes bit gap − 1, older bits move up with it
    const window = gap > WINDOW ? 0n : (((old.window << 1n) | 1n) << (gap - 1n)) & ((1n << WINDOW) - 1n);
    return { firstEpoch: old.firstEpoch, lastEpoch: epoch, window, gap, lag: 0n };
  }
  if (gap === 0n) return { refused: `already credited for this epoch (cumulative ${old.cumulative})` };
  if (gap > WINDOW)
    return {
      refused: `${gap} epochs before the device's latest credited epoch ${old.lastEpoch}: a late epoch is credited within ${WINDOW}`,
    };
  const bit = 1n << (gap - 1n);
  if (old.window & bit) return { refused: `already credited for this epoch (cumulative ${old.cumulative})` };
  return {
    firstEpoch: epoch < old.firstEpoch ? epoch : old.firstEpoch,
    lastEpoch: old.lastEpoch,
    window: old.window | bit,
    gap,
    lag: gap,
  };
}

const zerosCache = new Map<number, bigint[]>();
/** zeros(D)[i]: the root of an empty subtree of height i (zeros[0] = 0, the empty leaf). */
export function zeros(depth: number): bigint[] {
  let z = zerosCache.get(depth);
  if (!z) {
    z = [0n];
    for (let i = 0; i < depth; i++) z.push(poseidon2([z[i]!, z[i]!]));
    zerosCache.set(depth, z);
  }
  return z;
}

export const slotOf = (deviceId: bigint, depth: number): bigint => deviceId & ((1n << BigInt(depth)) - 1n);

export class EarningsTree {
  readonly depth: number;
  /** Nodes by `${level}:${index}` (level 0 = leaves); absent nodes are the empty subtree's root. */
  private readonly nodes = new Map<string, bigint>();
  private readonly leaves = new Map<bigint, EarningsLeaf>();

  constructor(depth: number) {
    if (!Number.isInteger(depth) || depth < 1 || depth > 64) throw new RangeError(`depth ${depth} is not in 1..64`);
    this.depth = depth;
  }

  get root(): bigint {
    return this.node(this.depth, 0n);
  }

  private node(level: number, index: bigint): bigint {
    return this.nodes.get(`${level}:${index}`) ?? zeros(this.depth)[level]!;
  }

  /** The leaf in deviceId's slot: its own, another key's that shares the slot, or undefined when empty. */
  leafAt(deviceId: bigint): EarningsLeaf | undefined {
    return this.leaves.get(slotOf(deviceId, this.depth));
  }

  /** Siblings from the leaf up (D values), as the circuit and BatchVault.withdraw take them. */
  siblings(deviceId: bigint): bigint[] {
    let idx = slotOf(deviceId, this.depth);
    const out: bigint[] = [];
    for (let level = 0; level < this.depth; level++, idx >>= 1n) out.push(this.node(level, idx ^ 1n));
    return out;
  }

  set(leaf: EarningsLeaf): void {
    let idx = slotOf(leaf.deviceId, this.depth);
    this.leaves.set(idx, { ...leaf });
    let h = leafHash(leaf);
    for (let level = 0; level < this.depth; level++, idx >>= 1n) {
      this.nodes.set(`${level}:${idx}`, h);
      const sib = this.node(level, idx ^ 1n);
      h = idx & 1n ? poseidon2([sib, h]) : poseidon2([h, sib]);
    }
    this.nodes.set(`${this.depth}:0`, h);
  }

  clone(): EarningsTree {
    const t = new EarningsTree(this.depth);
    for (const [k, v] of this.nodes) t.nodes.set(k, v);
    for (const [k, v] of this.leaves) t.leaves.set(k, { ...v });
    return t;
  }

  /** Every leaf (for persistence: a tree is rebuilt by set() of each). */
  allLeaves(): EarningsLeaf[] {
    return [...this.leaves.values()].map((l) => ({ ...l }));
  }
}

/** Root from a leaf and its siblings (what BatchVault.withdraw recomputes on chain). */
export function rootFrom(leaf: bigint, deviceId: bigint, siblings: readonly bigint[]): bigint {
  let idx = slotOf(deviceId, siblings.length);
  let h = leaf;
  for (const sib of siblings) {
    h = idx & 1n ? poseidon2([sib, h]) : poseidon2([h, sib]);
    idx >>= 1n;
  }
  return h;
}
