import { describe, expect, it } from "vitest";
import { poseidon4 } from "poseidon-lite";
import { emptyStateCommitment, stateCommitment, stateSlots } from "./state-commit.ts";
import { StateEncodingError } from "./errors.ts";

const hex = (s: string) => Buffer.from(s).toString("hex");
const u64 = (v: bigint) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt.asUintN(64, v));
  return b.toString("hex");
};

describe("state commitment", () => {
  const keys = [hex("best"), hex("streak")];

  it("commits (present, value) per key in key order; an absent key is (0, 0); i64 -1 reads as 2^64 - 1", () => {
    const state = { [hex("streak")]: u64(-1n) };
    expect(stateSlots(keys, state)).toEqual([0n, 0n, 1n, 2n ** 64n - 1n]);
    expect(stateCommitment(keys, state)).toBe(poseidon4([0n, 0n, 1n, 2n ** 64n - 1n]));
    expect(emptyStateCommitment(keys)).toBe(poseidon4([0n, 0n, 0n, 0n]));
    // A state that differs in one value, or in presence alone (0 stored vs absent), commits differently.
    expect(stateCommitment(keys, { [hex("streak")]: u64(0n) })).not.toBe(emptyStateCommitment(keys));
  });

  it("refuses a value that is not 8 bytes, and a stateless key list, with StateEncodingError", () => {
    expect(() => stateSlots(keys, { [hex("best")]: "01" })).toThrow(StateEncodingError);
    expect(() => stateCommitment([], undefined)).toThrow(StateEncodingError);
    expect(() =>
      stateCommitment(
        Array.from({ length: 9 }, (_, i) => hex(`k${i}`)),
        undefined,
      ),
    ).toThrow(StateEncodingError);
  });
});
