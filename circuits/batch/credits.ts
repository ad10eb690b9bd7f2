/**
 * A batch's credits as BatchVault reads them (issue 26): the new leaves of the batch, posted as calldata so anyone
 * can rebuild the earnings tree from the chain, bound to the proof by a challenge, and kept as a keccak Merkle root
 * so a withdrawal costs a few keccak hashes instead of a Poseidon path.
 *
 * - A credit is 63 bytes, big-endian: the device key's id (256 bits, below p), the epoch's output (64 bits), the
 *   cumulative units after the batch (96 bits), the first credited epoch (80 bits), the lag (8 bits: how many epochs
 *   the batch's epoch lies before the device's latest credited one, 0 unless a late credit): with the batch's epoch
 *   and the device's earlier credits, all of the new leaf (tree.ts creditEpoch replays the epochs), so the earnings
 *   tree can be rebuilt from calldata.
 * - r = keccak256(imageId ‖ epoch ‖ prevRoot ‖ newRoot ‖ credits) mod p; S = epoch + prevRoot·r + newRoot·r²
 *   + Σ deviceId·r^(3+2i) + (lag·2^240 + cumulative·2^144 + output·2^80 + firstEpoch)·r^(4+2i): the circuit's only
 *   public signals (circuit.ts computes S from its own leaves, the vault from the calldata).
 * - Leaf i is keccak256(credit_i ‖ epoch as 32 bytes); the tree hashes sorted pairs (OpenZeppelin's MerkleProof) and
 *   carries an odd node up unhashed. Written here because the vault builds the tree in a loop over the calldata
 *   (contracts/src/BatchVault.sol `_bindCredits`): @openzeppelin/merkle-tree lays its tree out differently.
 */
import { concat, getBytes, hexlify, keccak256, solidityPacked, toBeHex, zeroPadValue } from "ethers";
import { R as SNARK_FIELD } from "../setup/field.ts";
import { creditEpoch, type EarningsLeaf } from "./tree.ts";

export const CREDIT_LENGTH = 63;

/** One device's credit in a batch: its leaf after the batch and the epoch's output. */
export interface CreditRecord {
  deviceId: bigint;
  output: bigint;
  cumulative: bigint;
  firstEpoch: bigint;
  /** Epochs between the batch's epoch and the device's latest credited one (0 unless a late credit; < 2^8). */
  lag: bigint;
}

export const creditOf = (leaf: EarningsLeaf, output: bigint, lag: bigint): CreditRecord => ({
  deviceId: leaf.deviceId,
  output,
  cumulative: leaf.cumulative,
  firstEpoch: leaf.firstEpoch,
  lag,
});

function packCredit(c: CreditRecord): string {
  if (c.deviceId >= SNARK_FIELD || c.output >> 64n || c.cumulative >> 96n || c.firstEpoch >> 80n || c.lag >> 8n)
    throw new RangeError(
      `credit of ${c.deviceId} is out of range (id < p, output < 2^64, cumulative < 2^96, epoch < 2^80, lag < 2^8)`,
    );
  return solidityPacked(
    ["uint256", "uint64", "uint96", "uint80", "uint8"],
    [c.deviceId, c.output, c.cumulative, c.firstEpoch, c.lag],
  );
}

/** The `credits` bytes of BatchVault.submitBatch (0x…). */
export const encodeCredits = (credits: readonly CreditRecord[]): string => concat(credits.map(packCredit));

/** The records of `credits` bytes as submitBatch took them (whole records only; a trailing fragment is dropped). */
export function decodeCredits(credits: string): CreditRecord[] {
  const data = getBytes(credits);
  const out: CreditRecord[] = [];
  for (let off = 0; off + CREDIT_LENGTH <= data.length; off += CREDIT_LENGTH) {
    const x = (a: number, b: number) => BigInt(hexlify(data.subarray(off + a, off + b)));
    out.push({ deviceId: x(0, 32), output: x(32, 40), cumulative: x(40, 52), firstEpoch: x(52, 62), lag: x(62, 63) });
  }
  return out;
}

const word = (x: bigint) => zeroPadValue(toBeHex(x), 32);

export interface BatchHeader {
  /** 0x-prefixed bytes32. */
  imageId: string;
  epoch: bigint;
  prevRoot: bigint;
  newRoot: bigint;
}

/** r: the vault's challenge for this header and these credits. */
export function challengeOf(h: BatchHeader, credits: readonly CreditRecord[]): bigint {
  const imageId = h.imageId.startsWith("0x") ? h.imageId : `0x${h.imageId}`;
  const packed = concat([imageId, word(h.epoch), word(h.prevRoot), word(h.newRoot), encodeCredits(credits)]);
  return BigInt(keccak256(packed)) % SNARK_FIELD;
}

/** S for challenge r: what the circuit proves and the vault recomputes. */
export function bindingOf(r: bigint, h: BatchHeader, credits: readonly CreditRecord[]): bigint {
  const p = SNARK_FIELD;
  let pw = (r * r) % p;
  let s = (h.epoch + h.prevRoot * r + h.newRoot * pw) % p;
  for (const c of credits) {
    pw = (pw * r) % p;
    s = (s + c.deviceId * pw) % p;
    pw = (pw * r) % p;
    s = (s + ((c.lag << 240n) | (c.cumulative << 144n) | (c.output << 80n) | c.firstEpoch) * pw) % p;
  }
  return s;
}

export const creditLeaf = (c: CreditRecord, epoch: bigint): string => keccak256(concat([packCredit(c), word(epoch)]));

function hashPair(a: string, b: string): string {
  return BigInt(a) < BigInt(b) ? keccak256(concat([a, b])) : keccak256(concat([b, a]));
}

/** The keccak tree of a batch's credits as the vault builds it: its root and each credit's proof. */
export function creditsTree(
  credits: readonly CreditRecord[],
  epoch: bigint,
): { root: string; proof(index: number): string[] } {
  if (credits.length === 0) throw new RangeError("a batch has at least one credit");
  const levels: string[][] = [credits.map((c) => creditLeaf(c, epoch))];
  while (levels.at(-1)!.length > 1) {
    const cur = levels.at(-1)!;
    const next: string[] = [];
    for (let i = 0; i + 1 < cur.length; i += 2) next.push(hashPair(cur[i]!, cur[i + 1]!));
    if (cur.length % 2) next.push(cur.at(-1)!);
    levels.push(next);
  }
  return {
    root: levels.at(-1)![0]!,
    proof(index) {
      if (!Number.isInteger(index) || index < 0 || index >= credits.length)
        throw new RangeError(`credit ${index} is not in 0..${credits.length - 1}`);
      const out: string[] = [];
      let i = index;
      for (const level of levels.slice(0, -1)) {
        const sib = i ^ 1;
        if (sib < level.length) out.push(level[sib]!);
        i >>= 1;
      }
      return out;
    },
  };
}

/** A device's credit in a batch with its proof, as BatchVault.withdraw and recordFact take it. */
export function creditProofOf(
  credits: readonly CreditRecord[],
  epoch: bigint,
  deviceId: bigint,
): { output: bigint; cumulative: bigint; firstEpoch: bigint; lag: bigint; batch: string; proof: string[] } {
  const i = credits.findIndex((c) => c.deviceId === deviceId);
  if (i < 0) throw new RangeError(`device ${deviceId} has no credit in this batch`);
  const t = creditsTree(credits, epoch);
  const c = credits[i]!;
  return {
    output: c.output,
    cumulative: c.cumulative,
    firstEpoch: c.firstEpoch,
    lag: c.lag,
    batch: t.root,
    proof: t.proof(i),
  };
}

/**
 * The earnings leaves the batches' credits made, in crediting order (a later leaf of a device replaces its earlier):
 * each credit's cumulative and first epoch as posted, its latest epoch and window replayed as the circuit computes
 * them. Throws when a credit disagrees with the replay (a lag or first epoch the circuit could not have made): the
 * batches are not all of one vault's applet, or not in the vault's order.
 */
export function replayCredits(batches: readonly { epoch: bigint; credits: readonly CreditRecord[] }[]): EarningsLeaf[] {
  const latest = new Map<bigint, EarningsLeaf>();
  const out: EarningsLeaf[] = [];
  for (const b of batches)
    for (const c of b.credits) {
      const e = creditEpoch(latest.get(c.deviceId), b.epoch);
      if ("refused" in e || e.lag !== c.lag || e.firstEpoch !== c.firstEpoch)
        throw new RangeError(
          `credit of device ${c.deviceId} for epoch ${b.epoch} does not follow its earlier credits (${"refused" in e ? e.refused : `lag ${e.lag}, first epoch ${e.firstEpoch}`})`,
        );
      const leaf = {
        deviceId: c.deviceId,
        cumulative: c.cumulative,
        firstEpoch: e.firstEpoch,
        lastEpoch: e.lastEpoch,
        window: e.window,
      };
      latest.set(c.deviceId, leaf);
      out.push(leaf);
    }
  return out;
}
