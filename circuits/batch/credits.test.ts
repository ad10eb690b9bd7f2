/**
 * A batch's credits as the vault reads them: the 63-byte layout, the challenge and binding against a direct
 * evaluation of the polynomial, and every credit's keccak proof against an independent fold (OpenZeppelin's
 * processProof: sorted pairs) for trees of 1 to 9 credits, odd nodes carried up. BatchVault's own side is checked
 * on anvil with real proofs (contracts/batch-vault.test.ts).
 */
import { concat, keccak256 } from "ethers";
import { describe, expect, it } from "vitest";
import { R } from "../setup/field.ts";
import {
  bindingOf,
  challengeOf,
  creditLeaf,
  creditProofOf,
  creditsTree,
  decodeCredits,
  encodeCredits,
  replayCredits,
  type CreditRecord,
} from "./credits.ts";

const credit = (i: number): CreditRecord => ({
  deviceId: (BigInt(i + 1) << 200n) + BigInt(i) * 0x1234567890abcdefn,
  output: BigInt(100 + i),
  cumulative: BigInt(1000 + i),
  firstEpoch: (1_700_000_000_000n << 32n) + 60_000n,
  lag: BigInt(i % 3),
});
const header = {
  imageId: `0x${"ab".repeat(32)}`,
  epoch: (1_700_000_060_000n << 32n) + 60_000n,
  prevRoot: 7n,
  newRoot: 9n,
};

function processProof(proof: readonly string[], leaf: string): string {
  let h = leaf;
  for (const p of proof) h = BigInt(h) < BigInt(p) ? keccak256(concat([h, p])) : keccak256(concat([p, h]));
  return h;
}

describe("batch credits", () => {
  it("are 63 bytes each: the key's whole id, output, cumulative, first epoch, lag", () => {
    const c = credit(5);
    const hex = encodeCredits([c, credit(4)]).slice(2);
    expect(hex.length).toBe(2 * 126);
    expect(BigInt(`0x${hex.slice(0, 64)}`)).toBe(c.deviceId);
    expect(BigInt(`0x${hex.slice(64, 80)}`)).toBe(c.output);
    expect(BigInt(`0x${hex.slice(80, 104)}`)).toBe(c.cumulative);
    expect(BigInt(`0x${hex.slice(104, 124)}`)).toBe(c.firstEpoch);
    expect(BigInt(`0x${hex.slice(124, 126)}`)).toBe(2n);
    expect(BigInt(`0x${hex.slice(126, 190)}`)).toBe(credit(4).deviceId);
    expect(decodeCredits(`0x${hex}`)).toEqual([c, credit(4)]);
    expect(() => encodeCredits([{ ...c, deviceId: R }])).toThrow(RangeError);
    expect(() => encodeCredits([{ ...c, output: 1n << 64n }])).toThrow(RangeError);
    expect(() => encodeCredits([{ ...c, cumulative: 1n << 96n }])).toThrow(RangeError);
    expect(() => encodeCredits([{ ...c, firstEpoch: 1n << 80n }])).toThrow(RangeError);
    expect(() => encodeCredits([{ ...c, lag: 256n }])).toThrow(RangeError);
  });

  it("bind the header and every credit: S is the polynomial in r, and r changes with any byte", () => {
    const cs = [credit(0), credit(1), credit(2)];
    const r = challengeOf(header, cs);
    expect(r).toBeLessThan(R);
    const terms = [header.epoch, header.prevRoot, header.newRoot];
    for (const c of cs)
      terms.push(c.deviceId, (c.lag << 240n) + (c.cumulative << 144n) + (c.output << 80n) + c.firstEpoch);
    let direct = 0n;
    for (let j = terms.length - 1; j >= 0; j--) direct = (direct * r + terms[j]!) % R; // Horner
    expect(bindingOf(r, header, cs)).toBe(direct);
    expect(challengeOf({ ...header, newRoot: 10n }, cs)).not.toBe(r);
    expect(challengeOf(header, [cs[1]!, cs[0]!, cs[2]!])).not.toBe(r);
    expect(challengeOf(header, [...cs.slice(0, 2), { ...cs[2]!, cumulative: cs[2]!.cumulative + 1n }])).not.toBe(r);
    expect(challengeOf(header, [...cs.slice(0, 2), { ...cs[2]!, lag: 0n }])).not.toBe(r);
  });

  it("have a keccak proof each that folds to the tree's root, for 1 to 9 credits", () => {
    for (let m = 1; m <= 9; m++) {
      const cs = Array.from({ length: m }, (_, i) => credit(i));
      const t = creditsTree(cs, header.epoch);
      for (let i = 0; i < m; i++) {
        expect(processProof(t.proof(i), creditLeaf(cs[i]!, header.epoch))).toBe(t.root);
        expect(processProof(t.proof(i), creditLeaf({ ...cs[i]!, output: 1n }, header.epoch))).not.toBe(t.root);
      }
      // the epoch is in every leaf
      expect(creditsTree(cs, header.epoch + 1n).root).not.toBe(t.root);
    }
    const cs = [credit(0), credit(1), credit(2)];
    const p = creditProofOf(cs, header.epoch, cs[2]!.deviceId);
    expect(p.proof).toHaveLength(1); // the odd third credit is carried up to the root's level
    expect(() => creditProofOf(cs, header.epoch, 5n)).toThrow(RangeError);
  });

  it("replay into the leaves the circuit made: late credits set window bits, and a credit that does not follow is refused", () => {
    const unit = 60_000n << 32n;
    const e = (i: bigint) => ((1_700_000_000_000n + i * 60_000n) << 32n) + 60_000n;
    const id = 77n;
    const c = (cumulative: bigint, firstEpoch: bigint, lag: bigint): CreditRecord => ({
      deviceId: id,
      output: 1n,
      cumulative,
      firstEpoch,
      lag,
    });
    // epochs 5, then 8, then 6 late (lag 2), then 7 late (lag 1)
    const batches = [
      { epoch: e(5n), credits: [c(1n, e(5n), 0n)] },
      { epoch: e(8n), credits: [c(2n, e(5n), 0n)] },
      { epoch: e(6n), credits: [c(3n, e(5n), 2n)] },
      { epoch: e(3n), credits: [c(4n, e(3n), 5n)] },
    ];
    const leaves = replayCredits(batches);
    expect(leaves.map((l) => [l.lastEpoch, l.window, l.firstEpoch])).toEqual([
      [e(5n), 0n, e(5n)],
      [e(8n), 0b100n, e(5n)],
      [e(8n), 0b110n, e(5n)],
      [e(8n), 0b10110n, e(3n)],
    ]);
    expect(e(8n) - e(6n)).toBe(2n * unit);
    // the same epoch again, a wrong lag, a first epoch the circuit could not have made
    expect(() => replayCredits([...batches, { epoch: e(6n), credits: [c(5n, e(3n), 2n)] }])).toThrow(RangeError);
    expect(() => replayCredits([batches[0]!, { epoch: e(4n), credits: [c(2n, e(4n), 2n)] }])).toThrow(RangeError);
    expect(() => replayCredits([batches[0]!, { epoch: e(4n), credits: [c(2n, e(5n), 1n)] }])).toThrow(RangeError);
  });
});
