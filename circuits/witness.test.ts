/** The prover's refusals: every bad input is a typed error raised before any proving starts. */
import { describe, it, expect, beforeAll } from "vitest";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hashReading, padValues } from "../device-sdk/index.ts";
import {
  proveClaim,
  receiptFromJSON,
  SegmentError,
  EmptyEpochError,
  TooManyReadingsError,
  ClaimMismatchError,
  ValueRangeError,
  InvalidProveOptionsError,
  CircuitNotBuiltError,
  ReceiptFormatError,
  type ChainReading,
} from "./index.ts";
import { deviceKey, makeChain, epochPoints, EPOCH, IMAGE_ID, backend } from "./fixtures.ts";
import type { DeviceKey } from "../device-sdk/index.ts";

let key: DeviceKey;
let chain: ChainReading[];
const base = () => ({ devicePublicKey: key.publicKey, epoch: EPOCH, imageId: IMAGE_ID, reducer: "sum" as const });

beforeAll(async () => {
  key = await deviceKey(1);
  chain = await makeChain(key, epochPoints([5n, 7n, 11n], { after: 2 }));
});

describe("proveClaim refuses bad segments with typed errors", { timeout: 120_000 }, () => {
  it("another device's reading", async () => {
    const other = await deviceKey(2);
    const foreign = (await makeChain(other, epochPoints([1n])))[1]!;
    await expect(proveClaim({ ...base(), readings: [...chain, { ...foreign, seq: 99n }] })).rejects.toBeInstanceOf(
      SegmentError,
    );
  });
  it("a gap in the chain", async () => {
    await expect(proveClaim({ ...base(), readings: chain.filter((r) => r.seq !== 3n) })).rejects.toThrow(/gap/);
  });
  it("a missing before reading", async () => {
    await expect(proveClaim({ ...base(), readings: chain.slice(1) })).rejects.toThrow(/before the epoch .* is missing/);
  });
  it("an epoch not yet closed by a signed reading", async () => {
    const unsignedTail = chain.map((r, i) => (i === chain.length - 1 ? { ...r, signature: null } : r));
    await expect(proveClaim({ ...base(), readings: unsignedTail })).rejects.toThrow(
      /no signed reading at or after the epoch end/,
    );
    await expect(proveClaim({ ...base(), readings: chain.slice(0, 4) })).rejects.toBeInstanceOf(SegmentError);
  });
  it("a fork (a reading whose prev is not the previous hash)", async () => {
    const forked = chain.map((r) => (r.seq === 3n ? { ...r, prev: r.prev + 1n } : r));
    await expect(proveClaim({ ...base(), readings: forked })).rejects.toThrow(/does not extend the chain/);
  });
  it("an empty epoch", async () => {
    await expect(
      proveClaim({ ...base(), epoch: { startMs: 1n << 40n, lengthMs: 1000n }, readings: chain }),
    ).rejects.toBeInstanceOf(EmptyEpochError);
  });
  it("more slots than the largest circuit, saying what to change", async () => {
    const err = await proveClaim({ ...base(), readings: chain, sizes: [4] }).catch((e) => e);
    expect(err).toBeInstanceOf(TooManyReadingsError);
    expect(err.shortMessage).toMatch(/needs 5 slots \(3 in the epoch, 2 after it/);
    expect(err.details).toMatch(/shorter epochs|build a larger circuit/);
  });
  it("an applet claim the circuit would not compute", async () => {
    await expect(proveClaim({ ...base(), readings: chain, claim: 24n })).rejects.toBeInstanceOf(ClaimMismatchError);
    await expect(proveClaim({ ...base(), readings: chain, reducer: "max", claim: 23n })).rejects.toThrow(
      /max of the epoch's 3 reading\(s\) is 11/,
    );
  });
  it("a negative value inside the epoch", async () => {
    const b = await backend();
    const neg = await makeChain(key, epochPoints([5n, -1n]));
    void b;
    await expect(proveClaim({ ...base(), readings: neg })).rejects.toBeInstanceOf(ValueRangeError);
  });
  it("bad options", async () => {
    await expect(proveClaim({ ...base(), readings: chain, reducer: "count_above" })).rejects.toBeInstanceOf(
      InvalidProveOptionsError,
    );
    await expect(
      proveClaim({ ...base(), readings: chain, reducer: "count_above", params: { threshold: -1n } }),
    ).rejects.toBeInstanceOf(InvalidProveOptionsError);
    await expect(proveClaim({ ...base(), readings: chain, reducer: "median" as never })).rejects.toBeInstanceOf(
      InvalidProveOptionsError,
    );
    await expect(proveClaim({ ...base(), readings: chain, imageId: "0x1234" })).rejects.toBeInstanceOf(
      InvalidProveOptionsError,
    );
    await expect(
      proveClaim({ ...base(), readings: chain, epoch: { startMs: 0n, lengthMs: 0n } }),
    ).rejects.toBeInstanceOf(InvalidProveOptionsError);
  });
  it("a circuit that is not built", async () => {
    const empty = mkdtempSync(join(tmpdir(), "mfi-nobuild-"));
    await expect(proveClaim({ ...base(), readings: chain, buildDir: empty })).rejects.toBeInstanceOf(
      CircuitNotBuiltError,
    );
  });
  it("accepts unsigned readings inside the epoch (one signature after it vouches for them)", () => {
    expect(chain.filter((r) => r.signature).length).toBe(1);
    expect(hashReading({ ...chain[2]!, values: padValues(chain[2]!.values) })).toBe(chain[3]!.prev);
  });
});

describe("receiptFromJSON refuses malformed receipts", () => {
  const good = {
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
    claim: { imageId: IMAGE_ID, deviceId: "1", epoch: "2", output: "3", reducer: "sum" },
    journal: { firstSeq: "1", signedSeq: "2", insideCount: 1 },
    publicSignals: ["1", "1", "2", "3"],
  };
  it("parses a well-formed one", () => {
    expect(receiptFromJSON(JSON.stringify(good)).claim.output).toBe(3n);
  });
  it.each([
    ["not JSON", "{"],
    ["no seal", { ...good, seal: undefined }],
    ["unknown circuit", { ...good, seal: { ...good.seal, circuit: "readings_median_16" } }],
    ["k not matching the circuit", { ...good, seal: { ...good.seal, k: 64 } }],
    ["a negative number", { ...good, claim: { ...good.claim, output: "-3" } }],
    ["a hex number", { ...good, publicSignals: ["0x1", "1", "2", "3"] }],
    ["a short imageId", { ...good, claim: { ...good.claim, imageId: "0xabcd" } }],
    ["an unknown reducer", { ...good, claim: { ...good.claim, reducer: "median" } }],
    ["a point that is not a pair", { ...good, seal: { ...good.seal, a: ["1"] } }],
  ])("%s", (_what, bad) => {
    expect(() => receiptFromJSON(typeof bad === "string" ? bad : JSON.stringify(bad))).toThrow(ReceiptFormatError);
  });
});
