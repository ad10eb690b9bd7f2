/**
 * `npm run bench -- native` → build/bench/native.json: the native Groth16 prover against snarkjs on the same zkey and
 * witness in the same run (readings_sum_256, the largest default circuit), and its G1 multi-scalar multiplication
 * throughput at 2^17 of the zkey's own H points with random scalars, beside snarkjs's (ffjavascript) on the same input.
 * The Wasm backend (circuits/wasm-prover, single-threaded) is measured beside both: `prove.k256.wasm_vs_snarkjs_ratio`
 * and `prove.msm_g1.wasm_points_per_s`; without the native addon only the Wasm and snarkjs figures are written.
 * `prove.k16.median_s` and `prove.k256.median_s` (the `prove` bench) measure whichever backend the pool chose.
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
// @ts-expect-error snarkjs ships no types
import * as snarkjs from "snarkjs";
import type { Bench, BenchResult } from "../../core/index.ts";
import { median } from "../../core/index.ts";
import { imageIdToField } from "../../device-sdk/index.ts";
import { artifactsOf, buildCircuits, proveClaim, closeProver, DEFAULT_CIRCUITS } from "../index.ts";
import { deviceKey, fullSegment, makeChain, EPOCH, EPOCH_PACKED, IMAGE_ID } from "../fixtures.ts";
import { readingsInput, selectSegment } from "../witness.ts";
import { readZkey } from "./files.ts";
import { proverBackend } from "./loader.ts";
import { proveNative } from "./prove.ts";
import { WasmProver } from "../wasm-prover/addon.ts";
import { R } from "../setup/field.ts";

const bench: Bench = {
  name: "native",
  async run(log) {
    const b = proverBackend();
    const native = b.backend === "native" ? b.addon : undefined;
    if (!native) log(`the native prover is not in use (${b.reason}): Wasm and snarkjs figures only`);
    const wasm = new WasmProver();
    await buildCircuits(DEFAULT_CIRCUITS, { log });
    const out: BenchResult[] = [];
    const k = 256;
    const files = artifactsOf(`readings_sum_${k}`);
    const key = await deviceKey(9);
    const points = fullSegment(k);
    const readings = await makeChain(key, points);
    // The witness once, as the prover computes it; both backends prove from the same bytes.
    const inside = points.filter((p) => p.ts >= EPOCH.startMs && p.ts < EPOCH.startMs + EPOCH.lengthMs);
    const input = readingsInput({
      segment: selectSegment(readings, key.publicKey, EPOCH),
      k,
      publicKey: key.publicKey,
      imageIdField: imageIdToField(IMAGE_ID),
      epoch: EPOCH_PACKED,
      output: inside.reduce((a, p) => a + p.v, 0n),
    });
    const wtns = { type: "mem" } as { type: "mem"; data?: Uint8Array };
    await snarkjs.wtns.calculate(input, files.wasm, wtns);
    const vk = await snarkjs.zKey.exportVerificationKey(files.zkey);
    const zkey = new Uint8Array(readFileSync(files.zkey));
    const nativeS: number[] = [];
    if (native) {
      proveNative({ addon: native, zkey: files.zkey, wtns: wtns.data! }); // reads and caches the key
      for (let i = 0; i < 3; i++) {
        const t0 = performance.now();
        const p = proveNative({ addon: native, zkey: files.zkey, wtns: wtns.data! });
        nativeS.push((performance.now() - t0) / 1000);
        if (!(await snarkjs.groth16.verify(vk, p.publicSignals, p.proof)))
          throw new Error("a native proof did not verify");
      }
      log(`K=${k} native: ${nativeS.map((s) => s.toFixed(2)).join(", ")} s`);
    }
    // The Wasm backend once (its key is cached by the native run or read here, outside the timing).
    if (!native) proveNative({ addon: wasm, zkey: files.zkey, wtns: wtns.data!, blinding: [1n, 1n] });
    const tw = performance.now();
    const pw = proveNative({ addon: wasm, zkey: files.zkey, wtns: wtns.data! });
    const wasmS = (performance.now() - tw) / 1000;
    if (!(await snarkjs.groth16.verify(vk, pw.publicSignals, pw.proof))) throw new Error("a Wasm proof did not verify");
    log(`K=${k} Wasm: ${wasmS.toFixed(2)} s; snarkjs once…`);
    const t0 = performance.now();
    const s = await snarkjs.groth16.prove(zkey, wtns);
    const snarkjsS = (performance.now() - t0) / 1000;
    if (!(await snarkjs.groth16.verify(vk, s.publicSignals, s.proof)))
      throw new Error("the snarkjs proof did not verify");
    const load = `load avg ${loadavg()[0]!.toFixed(1)}`;
    if (native) {
      const nat = median(nativeS);
      out.push({
        id: "prove.k256.vs_snarkjs_ratio",
        value: nat / snarkjsS,
        unit: "ratio",
        baseline: snarkjsS,
        ratio: nat / snarkjsS,
        note: `native ${nat.toFixed(2)} s (median of 3, key cached) vs snarkjs.groth16.prove ${snarkjsS.toFixed(2)} s, same zkey and witness; ${load}`,
      });
      out.push({ id: "prove.k256.native_s", value: nat, unit: "s", note: `proof only (witness excluded); ${load}` });
    }
    out.push({
      id: "prove.k256.wasm_vs_snarkjs_ratio",
      value: wasmS / snarkjsS,
      unit: "ratio",
      baseline: snarkjsS,
      ratio: wasmS / snarkjsS,
      note: `Wasm prover ${wasmS.toFixed(2)} s (once, key cached, one thread) vs snarkjs.groth16.prove ${snarkjsS.toFixed(2)} s (all cores), same zkey and witness; ${load}`,
    });

    // G1 MSM on the zkey's H points (2^domain of them) with random scalars below r.
    const n = 1 << 17;
    const h = readZkey(zkey).H.subarray(0, 64 * n);
    const scalars = new Uint8Array(32 * n);
    const rnd = randomBytes(32 * n);
    for (let i = 0; i < n; i++) {
      let x = 0n;
      for (let j = 31; j >= 0; j--) x = (x << 8n) | BigInt(rnd[32 * i + j]!);
      x %= R;
      for (let j = 0; j < 32; j++, x >>= 8n) scalars[32 * i + j] = Number(x & 0xffn);
    }
    const msm: number[] = [];
    for (let i = 0; native && i < 3; i++) {
      const t = performance.now();
      native.msmG1(h, scalars);
      msm.push((performance.now() - t) / 1000);
    }
    const perS = n / median(msm);
    const tm = performance.now();
    wasm.msmG1(h, scalars);
    const wasmPerS = n / ((performance.now() - tm) / 1000);
    // snarkjs's own MSM (ffjavascript's multiExpAffine) on the same points and scalars, once
    const curve = await snarkjs.curves.getCurveFromName("bn128");
    const ts = performance.now();
    await curve.G1.multiExpAffine(h, scalars, false, "bench");
    const snarkjsPerS = n / ((performance.now() - ts) / 1000);
    if (native)
      out.push({
        id: "prove.msm_g1.points_per_s",
        value: perS,
        unit: "points/s",
        baseline: snarkjsPerS,
        ratio: perS / snarkjsPerS,
        note: `native, 2^17 points (readings_sum_256's H), random scalars, median of 3: ${median(msm).toFixed(3)} s, all cores; Wasm ${Math.round(wasmPerS)} points/s (one thread); snarkjs (ffjavascript multiExpAffine) ${Math.round(snarkjsPerS)} points/s; ${load}`,
      });
    out.push({
      id: "prove.msm_g1.wasm_points_per_s",
      value: wasmPerS,
      unit: "points/s",
      baseline: snarkjsPerS,
      ratio: wasmPerS / snarkjsPerS,
      note: `the Wasm prover, same 2^17 points and scalars, once, one thread; snarkjs ${Math.round(snarkjsPerS)} points/s (all cores); ${load}`,
    });
    if (!native) return out;
    // The pool's own K=16 figure with the native prover (witness included), for comparison with the prove bench.
    const k16 = await makeChain(key, fullSegment(16));
    const t16: number[] = [];
    for (let i = 0; i < 3; i++)
      t16.push(
        (
          await proveClaim({
            readings: k16,
            devicePublicKey: key.publicKey,
            epoch: EPOCH,
            imageId: IMAGE_ID,
            reducer: "sum",
          })
        ).stats.totalMs / 1000,
      );
    out.push({
      id: "prove.k16.native_pool_s",
      value: median(t16),
      unit: "s",
      note: `through the prover pool (witness + native proof + verification), median of 3; ${load}`,
    });
    await closeProver();
    return out;
  },
};
export default bench;
