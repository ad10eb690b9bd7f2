/**
 * The Wasm Groth16 prover on real circuits of the build (their zkeys, witnesses from circom's Wasm): proofs of the
 * readings circuits and of a compiled applet (energy-sum, K = 16) verify with snarkjs.groth16.verify; a tampered
 * witness gives a proof that does not verify (no crash); a coefficient out of range is refused.
 */
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { existsSync, readFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
// @ts-expect-error snarkjs ships no types
import * as snarkjs from "snarkjs";
import { imageIdToField, packEpoch, type DeviceKey } from "../../device-sdk/index.ts";
import { artifactsOf, buildCircuits } from "../setup/build.ts";
import { readingsInput, selectSegment, type ChainReading, type CircuitInput } from "../witness.ts";
import { closeProver } from "../prover.ts";
import { ProverInputError } from "../errors.ts";
import { deviceKey, makeChain, epochPoints, EPOCH, EPOCH_PACKED, IMAGE_ID } from "../fixtures.ts";
import { setupAppletCircuit } from "../compile/keys.ts";
import { appletInput } from "../compile/prove.ts";
import { loadBuiltApplet } from "../../toolchain/index.ts";
import { proveNative } from "../native/prove.ts";
import { WasmProver, WASM_PROVER } from "./addon.ts";

let wasm: WasmProver;
let key: DeviceKey;
let chain: ChainReading[];
const CASES: [string, number, bigint, bigint?][] = [
  ["readings_sum_16", 16, 23n],
  ["readings_count_above_16", 16, 2n, 6n],
];

beforeAll(async () => {
  if (!existsSync(WASM_PROVER))
    spawnSync(process.execPath, ["--import", "./cli/register.mjs", "scripts/build-wasm-prover.ts", "--quiet"], {
      stdio: "inherit",
    });
  wasm = new WasmProver();
  await buildCircuits(
    CASES.map((c) => c[0]),
    { log: () => {} },
  );
  key = await deviceKey(1);
  chain = await makeChain(key, epochPoints([5n, 7n, 11n]));
}, 600_000);
afterAll(closeProver);

function inputFor(k: number, output: bigint, param?: bigint): CircuitInput {
  return readingsInput({
    segment: selectSegment(chain, key.publicKey, EPOCH),
    k,
    publicKey: key.publicKey,
    imageIdField: imageIdToField(IMAGE_ID),
    epoch: EPOCH_PACKED,
    output,
    param,
  });
}

async function witness(wasmFile: string, input: CircuitInput): Promise<Uint8Array> {
  const wtns: { type: "mem"; data?: Uint8Array } = { type: "mem" };
  await snarkjs.wtns.calculate(input, wasmFile, wtns);
  return wtns.data!;
}
const vkey = (file: string) => JSON.parse(readFileSync(file, "utf8"));

describe("Wasm Groth16 proofs", { timeout: 600_000 }, () => {
  for (const [name, k, output, param] of CASES) {
    it(`${name}: the proof verifies with snarkjs`, async () => {
      const a = artifactsOf(name);
      const w = await witness(a.wasm, inputFor(k, output, param));
      const { proof, publicSignals } = proveNative({ addon: wasm, zkey: a.zkey, wtns: w });
      expect(await snarkjs.groth16.verify(vkey(a.vkey), publicSignals, proof)).toBe(true);
      const other = [...publicSignals];
      other[other.length - 1] = (BigInt(other[other.length - 1]!) + 1n).toString();
      expect(await snarkjs.groth16.verify(vkey(a.vkey), other, proof)).toBe(false);
    });
  }

  it("a compiled applet (energy-sum, K = 16): the proof verifies with snarkjs", async () => {
    const circuit = await setupAppletCircuit({ wasm: loadBuiltApplet("energy-sum"), k: 16, log: () => {} });
    const dk = await deviceKey(18);
    const ch = await makeChain(dk, epochPoints([120n, 7n, 0n, 55n]));
    const input = appletInput({
      circuit,
      segment: selectSegment(ch, dk.publicKey, EPOCH),
      publicKey: dk.publicKey,
      epoch: packEpoch(EPOCH),
      output: 182n,
    });
    const w = await witness(circuit.wasm, input);
    const { proof, publicSignals } = proveNative({ addon: wasm, zkey: circuit.zkey, wtns: w });
    expect(publicSignals[3]).toBe("182");
    expect(await snarkjs.groth16.verify(vkey(circuit.vkey), publicSignals, proof)).toBe(true);
  });

  it("a tampered witness gives a proof that does not verify, without a crash", async () => {
    const a = artifactsOf("readings_sum_16");
    const w = new Uint8Array(await witness(a.wasm, inputFor(16, 23n)));
    w[w.length - 32] = w[w.length - 32]! ^ 1;
    const { proof, publicSignals } = proveNative({ addon: wasm, zkey: a.zkey, wtns: w });
    expect(await snarkjs.groth16.verify(vkey(a.vkey), publicSignals, proof)).toBe(false);
  });

  it("fixed blinding gives the native layout's same proof twice; a bad coefficient is refused", async () => {
    const a = artifactsOf("readings_sum_16");
    const w = await witness(a.wasm, inputFor(16, 23n));
    const p1 = proveNative({ addon: wasm, zkey: a.zkey, wtns: w, blinding: [3n, 5n] });
    const p2 = proveNative({ addon: wasm, zkey: a.zkey, wtns: w, blinding: [3n, 5n] });
    expect(p2).toEqual(p1);
    const z = new Uint8Array(readFileSync(a.zkey));
    const dv = new DataView(z.buffer);
    let p = 12;
    while (dv.getUint32(p, true) !== 4) p += 12 + Number(dv.getBigUint64(p + 4, true));
    dv.setUint32(p + 12 + 4 + 8, 0xffffffff, true);
    expect(() => proveNative({ addon: wasm, zkey: z, wtns: w })).toThrow(ProverInputError);
    expect(() => proveNative({ addon: wasm, zkey: z, wtns: w })).toThrow(/out of range/);
  });
});
