/**
 * The receipt's JSON form: the run's journal digest and the segment survive a round trip, receipts written before the
 * vocabulary change (segment called `journal`, the digest inside it) still read, and malformed digests and imageIds
 * are refused with ReceiptFormatError.
 */
import { describe, expect, it } from "vitest";
import { ReceiptFormatError } from "./errors.ts";
import { receiptFromJSON, receiptToJSON } from "./receipt.ts";

const DIGEST = "5e".repeat(32);
const receipt = {
  seal: {
    protocol: "groth16",
    curve: "bn128",
    circuit: "readings_sum_16",
    k: 16,
    a: ["1", "2"],
    b: [
      ["1", "2"],
      ["3", "4"],
    ],
    c: ["5", "6"],
  },
  claim: { imageId: "0x" + "AB".repeat(32), deviceId: "1", epoch: "2", output: "3", reducer: "sum" },
  journalDigest: DIGEST,
  segment: { firstSeq: "1", signedSeq: "2", insideCount: 1 },
  publicSignals: ["1", "1", "2", "3"],
};

describe("receipt JSON", () => {
  it("keeps the run's journal digest and the segment through a round trip, the imageId canonical", () => {
    const r = receiptFromJSON(JSON.stringify(receipt));
    expect(r.journalDigest).toBe(DIGEST);
    expect(r.segment).toEqual({ firstSeq: 1n, signedSeq: 2n, insideCount: 1 });
    expect(r.claim.imageId).toBe("0x" + "ab".repeat(32));
    const again = receiptFromJSON(receiptToJSON(r));
    expect(again).toEqual(r);
    expect(JSON.parse(receiptToJSON(r))).toMatchObject({ journalDigest: DIGEST, segment: { firstSeq: "1" } });
  });

  it("reads a receipt from before the vocabulary change: `journal` for the segment, the digest inside it", () => {
    const { segment, journalDigest, ...rest } = receipt;
    const r = receiptFromJSON({ ...rest, journal: { ...segment, journalDigest } });
    expect(r.journalDigest).toBe(DIGEST);
    expect(r.segment).toEqual({ firstSeq: 1n, signedSeq: 2n, insideCount: 1 });
  });

  it("a receipt without a run (mfi prove) has no journal digest and writes none", () => {
    const { journalDigest: _, ...noRun } = receipt;
    const r = receiptFromJSON(noRun);
    expect(r.journalDigest).toBeUndefined();
    expect(JSON.parse(receiptToJSON(r))).not.toHaveProperty("journalDigest");
  });

  it.each([
    ["a short journal digest", { ...receipt, journalDigest: "abcd" }],
    ["a journal digest that is not hex", { ...receipt, journalDigest: "zz".repeat(32) }],
    ["an imageId without 0x", { ...receipt, claim: { ...receipt.claim, imageId: "ab".repeat(32) } }],
    ["an imageId that is not a string", { ...receipt, claim: { ...receipt.claim, imageId: 1 } }],
    ["an imageId of 31 bytes", { ...receipt, claim: { ...receipt.claim, imageId: "0x" + "ab".repeat(31) } }],
  ])("refuses %s", (_what, bad) => {
    expect(() => receiptFromJSON(JSON.stringify(bad))).toThrow(ReceiptFormatError);
  });
});
