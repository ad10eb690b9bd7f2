/**
 * Soundness of Readings(K) at K=16, attack by attack: each forged input must yield no witness (the circuit's
 * constraints reject it). Inputs are built with the prover's own layout (readingsInput) and then tampered with,
 * bypassing the prover's pre-checks, so what is tested is the circuit.
 */
import { describe, it, expect, beforeAll, afterAll } from "vitest";
// @ts-expect-error snarkjs ships no types
import * as snarkjs from "snarkjs";
import { hashReading, imageIdToField, padValues, genesisHash } from "../device-sdk/index.ts";
import { artifactsOf } from "./setup/build.ts";
import { readingsInput, selectSegment, type ChainReading, type CircuitInput } from "./witness.ts";
import { closeProver } from "./prover.ts";
import { deviceKey, makeChain, epochPoints, backend, EPOCH, EPOCH_PACKED, IMAGE_ID } from "./fixtures.ts";
import type { DeviceKey } from "../device-sdk/index.ts";

const wasm = (name: string) => artifactsOf(name).wasm;

async function witnessOk(input: CircuitInput, name = "readings_sum_16"): Promise<boolean> {
  try {
    await snarkjs.wtns.calculate(input, wasm(name), { type: "mem" });
    return true;
  } catch {
    return false;
  }
}

function inputFor(key: DeviceKey, readings: ChainReading[], output: bigint, k = 16): CircuitInput {
  const segment = selectSegment(readings, key.publicKey, EPOCH);
  return readingsInput({
    segment,
    k,
    publicKey: key.publicKey,
    imageIdField: imageIdToField(IMAGE_ID),
    epoch: EPOCH_PACKED,
    output,
  });
}

const clone = (i: CircuitInput): CircuitInput => JSON.parse(JSON.stringify(i));

let key: DeviceKey;
let other: DeviceKey;
let chain: ChainReading[];
let honest: CircuitInput;
const VALUES = [5n, 7n, 11n];

beforeAll(async () => {
  key = await deviceKey(1);
  other = await deviceKey(2);
  chain = await makeChain(key, epochPoints(VALUES));
  honest = inputFor(key, chain, 23n);
});
afterAll(closeProver);

/** Re-sign a hand-made chain (the device signs whatever it is given: these model a buggy or malicious device). */
async function signedChain(k: DeviceKey, links: { seq: bigint; ts: bigint; v: bigint }[]): Promise<ChainReading[]> {
  const b = await backend();
  let prev = genesisHash(k.deviceId);
  return links.map((l, i) => {
    const r = { deviceId: k.deviceId, seq: l.seq, ts: l.ts, values: padValues([l.v]), prev };
    prev = hashReading(r);
    return { ...r, signature: i === links.length - 1 ? b.sign(k.privateKey, prev) : null };
  });
}

describe("Readings(16) with the sum reducer", { timeout: 120_000 }, () => {
  it("accepts the honest segment (so every rejection below is the attack's doing)", async () => {
    expect(await witnessOk(honest)).toBe(true);
  });

  it("rejects a forged signature", async () => {
    const i = clone(honest);
    i.S = (BigInt(i.S as string) + 1n).toString();
    expect(await witnessOk(i)).toBe(false);
    const j = clone(honest);
    j.R8x = honest.Ax as string;
    expect(await witnessOk(j)).toBe(false);
  });

  it("rejects another device's key or deviceId", async () => {
    const i = clone(honest);
    i.Ax = other.publicKey.x.toString();
    i.Ay = other.publicKey.y.toString();
    expect(await witnessOk(i)).toBe(false);
    const j = clone(honest);
    j.deviceId = other.deviceId.toString();
    expect(await witnessOk(j)).toBe(false);
  });

  it("rejects another device's reading spliced into the chain", async () => {
    const foreign = await makeChain(other, epochPoints(VALUES));
    const i = clone(honest);
    (i.values as string[][])[1] = padValues([foreign[2]!.values[0]! + 100n]).map(String);
    expect(await witnessOk(i)).toBe(false);
  });

  it("rejects a broken chain link (a reading changed after signing)", async () => {
    const i = clone(honest);
    (i.values as string[][])[1]![0] = "8"; // 7 -> 8, with the output adjusted to match
    i.claimOutput = "24";
    expect(await witnessOk(i)).toBe(false);
    const j = clone(honest);
    (j.ts as string[])[1] = (BigInt((j.ts as string[])[1]!) + 1n).toString();
    expect(await witnessOk(j)).toBe(false);
  });

  it("rejects omitting the first reading of the epoch", async () => {
    // Pretend the first inside reading is the before reading: its ts is not before the start.
    const r1 = chain[1]!;
    const i = clone(honest);
    i.beforeSeq = r1.seq.toString();
    i.beforeTs = r1.ts.toString();
    i.beforeValues = r1.values.map(String);
    i.beforePrev = r1.prev.toString();
    for (const f of ["ts", "values", "enabled", "inside"] as const)
      ((i[f] as unknown[]).splice(0, 1), (i[f] as unknown[]).push(f === "values" ? ["0", "0", "0", "0"] : "0"));
    i.claimOutput = "18";
    expect(await witnessOk(i)).toBe(false);
    // Or start from genesis while the chain has a before reading: the seq and prev no longer match.
    const j = clone(honest);
    j.hasBefore = "0";
    expect(await witnessOk(j)).toBe(false);
  });

  it("rejects omitting the last reading of the epoch", async () => {
    const i = clone(honest);
    (i.inside as string[])[2] = "0"; // 11 is inside the epoch but left out
    i.claimOutput = "12";
    expect(await witnessOk(i)).toBe(false);
  });

  it("rejects an epoch not closed by a signed reading after its end", async () => {
    // Sign the last inside reading and stop there: no reading at or after the end.
    const links = epochPoints(VALUES, { after: 0 }).map((p, n) => ({ seq: BigInt(n + 1), ts: p.ts, v: p.v }));
    const c = await signedChain(key, links);
    const i = clone(honest);
    (i.enabled as string[])[4] = "0";
    (i.ts as string[])[4] = "0";
    (i.values as string[][])[4] = ["0", "0", "0", "0"];
    const last = c[c.length - 1]!.signature!;
    i.S = last.S.toString();
    i.R8x = last.R8x.toString();
    i.R8y = last.R8y.toString();
    expect(await witnessOk(i)).toBe(false);
  });

  it("rejects a repeated or decreasing seq, even when the device signed it", async () => {
    for (const seqs of [
      [1n, 2n, 2n, 3n, 4n],
      [1n, 3n, 2n, 4n, 5n],
    ]) {
      const pts = epochPoints(VALUES);
      const c = await signedChain(
        key,
        pts.map((p, n) => ({ seq: seqs[n]!, ts: p.ts, v: p.v })),
      );
      const seg = { before: c[0], slots: c.slice(1), insideCount: 3 };
      const i = readingsInput({
        segment: seg,
        k: 16,
        publicKey: key.publicKey,
        imageIdField: imageIdToField(IMAGE_ID),
        epoch: EPOCH_PACKED,
        output: 23n,
      });
      expect(await witnessOk(i)).toBe(false);
    }
  });

  it("rejects a reading outside the epoch counted as inside", async () => {
    const i = clone(honest);
    (i.inside as string[])[3] = "1"; // the trailing reading (ts >= end)
    i.claimOutput = "30";
    expect(await witnessOk(i)).toBe(false);
  });

  it("rejects decreasing ts inside the segment, even when the device signed it", async () => {
    const pts = epochPoints(VALUES);
    [pts[2]!.ts, pts[3]!.ts] = [pts[3]!.ts, pts[2]!.ts];
    const c = await signedChain(
      key,
      pts.map((p, n) => ({ seq: BigInt(n + 1), ts: p.ts, v: p.v })),
    );
    const i = readingsInput({
      segment: { before: c[0], slots: c.slice(1), insideCount: 3 },
      k: 16,
      publicKey: key.publicKey,
      imageIdField: imageIdToField(IMAGE_ID),
      epoch: EPOCH_PACKED,
      output: 23n,
    });
    expect(await witnessOk(i)).toBe(false);
  });

  it("rejects a wrong output", async () => {
    for (const out of ["22", "24", "0"]) {
      const i = clone(honest);
      i.claimOutput = out;
      expect(await witnessOk(i)).toBe(false);
    }
  });

  it("rejects a disabled slot carrying a value", async () => {
    const i = clone(honest);
    (i.values as string[][])[9]![0] = "1000";
    expect(await witnessOk(i)).toBe(false);
  });

  it("rejects an empty epoch", async () => {
    const i = clone(honest);
    (i.inside as string[]).fill("0");
    i.claimOutput = "0";
    expect(await witnessOk(i)).toBe(false);
  });
});

// A negative i64 enters the chain as r - |v|; before every reduced value was range-checked, the sum circuit had a
// witness claiming output = r - |sum| (issue 16). R is the BN254 scalar field modulus.
describe("Readings(16): reduced values lie in [0, 2^63) in every circuit", { timeout: 120_000 }, () => {
  const R = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;
  const negInput = async (values: bigint[], output: bigint, param?: bigint) => {
    const c = await makeChain(key, epochPoints(values));
    const segment = { before: c[0], slots: c.slice(1), insideCount: values.length };
    return readingsInput({
      segment,
      k: 16,
      publicKey: key.publicKey,
      imageIdField: imageIdToField(IMAGE_ID),
      epoch: EPOCH_PACKED,
      output,
      param,
    });
  };

  it("sum: a signed chain with a negative inside value has no witness for the wrapped sum r - 5, nor for any small output", async () => {
    expect(await witnessOk(await negInput([3n, -8n], R - 5n))).toBe(false);
    expect(await witnessOk(await negInput([-5n], R - 5n))).toBe(false);
    expect(await witnessOk(await negInput([3n, -8n], 0n))).toBe(false);
    expect(await witnessOk(await negInput([3n, 8n], 11n))).toBe(true); // the same chain shape, honest values
  });

  it("sum: the largest i64 still has a witness (the check is [0, 2^63), not narrower)", async () => {
    expect(await witnessOk(await negInput([(1n << 63n) - 1n, 1n], 1n << 63n))).toBe(true);
  });

  it("count_above and max: a negative inside value has no witness (it used to count as below every threshold)", async () => {
    expect(await witnessOk(await negInput([3n, -1n], 1n, 2n), "readings_count_above_16")).toBe(false);
    expect(await witnessOk(await negInput([3n, 1n], 1n, 2n), "readings_count_above_16")).toBe(true);
    expect(await witnessOk(await negInput([3n, -1n], 3n), "readings_max_16")).toBe(false);
    expect(await witnessOk(await negInput([3n, 1n], 3n), "readings_max_16")).toBe(true);
  });
});
