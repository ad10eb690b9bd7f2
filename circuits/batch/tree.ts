/**
 * The earnings state of one applet in batch mode (issue 26): a sparse Merkle tree of depth D over Poseidon(2), one
 * leaf per device key at index `deviceId mod 2^D` (the circuit derives the index from the deviceId's bits, so a key
 * has exactly one slot and can never be credited in two). A leaf is Poseidon(deviceId, cumulative, firstEpoch,
 * lastEpoch): the device's cumulative output units for the applet, and the first and last epochs credited; an empty
 * slot is 0. The circuit (circuit.ts) and BatchVault.sol hash exactly this way; the vault stores only the root.
 */
import { poseidon2 } from "poseidon-lite/poseidon2";
import { poseidon4 } from "poseidon-lite/poseidon4";

export interface EarningsLeaf {
  deviceId: bigint;
  /** Sum of the outputs credited so far (units; the vault pays units × rewardPerUnit at withdrawal). */
  cumulative: bigint;
  /** Packed epoch of the first credit (the vault checks the key was the token's key from its start). */
  firstEpoch: bigint;
  /** Packed epoch of the last credit: the circuit credits a device only for a later epoch (once per epoch). */
  lastEpoch: bigint;
}

export const leafHash = (l: EarningsLeaf): bigint => poseidon4([l.deviceId, l.cumulative, l.firstEpoch, l.lastEpoch]);

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
