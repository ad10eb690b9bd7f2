/**
 * The native Groth16 prover on the real circuits of the build (their zkeys, witnesses computed by circom's Wasm):
 * its proofs verify with snarkjs.groth16.verify; a tampered witness gives a proof that does not verify (no crash);
 * malformed keys and witnesses get ProverInputError.
 */
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { readFileSync } from "node:fs";
// @ts-expect-error snarkjs ships no types
import * as snarkjs from "snarkjs";
import { imageIdToField } from "../../device-sdk/index.ts";
import { artifactsOf, buildCircuits } from "../setup/build.ts";
import { readingsInput, selectSegment, type ChainReading, type CircuitInput } from "../witness.ts";
import { closeProver } from "../prover.ts";
import { ProverInputError } from "../errors.ts";
import { deviceKey, makeChain, epochPoints, EPOCH, EPOCH_PACKED, IMAGE_ID } from "../fixtures.ts";
import type { DeviceKey } from "../../device-sdk/index.ts";
import { proverBackend } from "./loader.ts";
import { proveNative } from "./prove.ts";

const native = proverBackend({ env: "native" }).addon;
let key: DeviceKey;
let chain: ChainReading[];

beforeAll(async () => {
  // A fresh clone after `npm ci` has the addon but no circuits yet: build the four used here (cached, locked).
  if (native)
    await buildCircuits(
      CASES.map((c) => c[0]),
      { log: () => {} },
    );
  key = await deviceKey(1);
  chain = await makeChain(key, epochPoints([5n, 7n, 11n]));
});
afterAll(closeProver);

function inputFor(k: number, output: bigint, param?: bigint): CircuitInput {
  const segment = selectSegment(chain, key.publicKey, EPOCH);
  return readingsInput({
    segment,
    k,
    publicKey: key.publicKey,
    imageIdField: imageIdToField(IMAGE_ID),
    epoch: EPOCH_PACKED,
    output,
    param,
  });
}

async function witness(name: string, input: CircuitInput): Promise<Uint8Array> {
  const wtns: { type: "mem"; data?: Uint8Array } = { type: "mem" };
  await snarkjs.wtns.calculate(input, artifactsOf(name).wasm, wtns);
  return wtns.data!;
}

const vkey = (name: string) => JSON.parse(readFileSync(artifactsOf(name).vkey, "utf8"));

const CASES: [string, number, bigint, bigint?][] = [
  ["readings_sum_16", 16, 23n],
  ["readings_max_16", 16, 11n],
  ["readings_count_above_16", 16, 2n, 6n],
  ["readings_sum_64", 64, 23n],
];

describe.skipIf(!native)("native Groth16 proofs", () => {
  for (const [name, k, output, param] of CASES) {
    it(`${name}: the proof verifies with snarkjs`, async () => {
      const w = await witness(name, inputFor(k, output, param));
      const { proof, publicSignals } = proveNative({ addon: native!, zkey: artifactsOf(name).zkey, wtns: w });
      expect(proof.protocol).toBe("groth16");
      expect(publicSignals[0]).toBe(imageIdToField(IMAGE_ID).toString());
      expect(await snarkjs.groth16.verify(vkey(name), publicSignals, proof)).toBe(true);
      // Another public signal, same proof: refused (the verifier is not vacuous).
      const other = [...publicSignals];
      other[other.length - 1] = (BigInt(other[other.length - 1]!) + 1n).toString();
      expect(await snarkjs.groth16.verify(vkey(name), other, proof)).toBe(false);
    });
  }

  it("a tampered witness gives a proof that does not verify, without a crash", async () => {
    const name = "readings_sum_16";
    const w = new Uint8Array(await witness(name, inputFor(16, 23n)));
    // The last variable is private; flip one bit of it (still < r).
    const n = w.length - 32;
    w[n] = w[n]! ^ 1;
    const { proof, publicSignals } = proveNative({ addon: native!, zkey: artifactsOf(name).zkey, wtns: w });
    expect(await snarkjs.groth16.verify(vkey(name), publicSignals, proof)).toBe(false);
  });

  it("fixed blinding gives the same proof twice; fresh blinding differs and verifies", async () => {
    const name = "readings_sum_16";
    const w = await witness(name, inputFor(16, 23n));
    const a = proveNative({ addon: native!, zkey: artifactsOf(name).zkey, wtns: w, blinding: [3n, 5n] });
    const b = proveNative({ addon: native!, zkey: artifactsOf(name).zkey, wtns: w, blinding: [3n, 5n] });
    const c = proveNative({ addon: native!, zkey: artifactsOf(name).zkey, wtns: w, threads: 1 });
    expect(b).toEqual(a);
    expect(c.proof.pi_a).not.toEqual(a.proof.pi_a);
    expect(await snarkjs.groth16.verify(vkey(name), a.publicSignals, a.proof)).toBe(true);
    expect(await snarkjs.groth16.verify(vkey(name), c.publicSignals, c.proof)).toBe(true);
  });

  it("refuses a witness of another circuit, a damaged key or witness with ProverInputError", async () => {
    const w16 = await witness("readings_sum_16", inputFor(16, 23n));
    const zkey16 = readFileSync(artifactsOf("readings_sum_16").zkey);
    const bad = (zkey: string | Uint8Array, wtns: Uint8Array) => () => proveNative({ addon: native!, zkey, wtns });
    expect(bad(artifactsOf("readings_sum_64").zkey, w16)).toThrow(ProverInputError);
    expect(bad(zkey16.subarray(0, zkey16.length - 100), w16)).toThrow(ProverInputError);
    expect(bad(zkey16, w16.subarray(0, w16.length - 32))).toThrow(ProverInputError);
    expect(bad(zkey16, new TextEncoder().encode("wtns not really"))).toThrow(ProverInputError);
    // A coefficient pointing past the witness: refused by the addon's bounds checks.
    const z = new Uint8Array(zkey16);
    const coeffs = findSection(z, 4);
    new DataView(z.buffer, coeffs + 4 + 8).setUint32(0, 0xffffffff, true);
    expect(bad(z, w16)).toThrow(/out of range/);
  });
});

/** Offset of a section's data in a zkey. */
function findSection(b: Uint8Array, id: number): number {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let p = 12;
  for (let i = 0; i < dv.getUint32(8, true); i++) {
    if (dv.getUint32(p, true) === id) return p + 12;
    p += 12 + Number(dv.getBigUint64(p + 4, true));
  }
  throw new Error(`no section ${id}`);
}
