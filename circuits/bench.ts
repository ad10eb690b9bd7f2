/**
 * `npm run bench -- prove` → build/bench/prove.json: constraints, median proving time (3 runs, fresh prover process
 * per circuit so peak RSS is that circuit's) and where the time goes (witness, QAP/FFT, MSM), off-chain verify time,
 * and the dev setup's first-run time for every default circuit (keys only, from the compiled R1CS, in a temp dir;
 * compile times come from the build manifests).
 */
import { mkdtempSync, rmSync, mkdirSync } from "node:fs";
import { tmpdir, loadavg } from "node:os";
import { join } from "node:path";
import type { Bench, BenchResult } from "../core/index.ts";
import { median } from "../core/index.ts";
import { registrationMessage } from "../device-sdk/index.ts";
import {
  proveClaim,
  verifyReceipt,
  closeProver,
  ProverPool,
  proveRegistration,
  DEFAULT_CIRCUITS,
  buildCircuits,
  artifactsOf,
  type ProveResult,
} from "./index.ts";
import { readManifest } from "./setup/build.ts";
import { FixedBasePool } from "./setup/fixed-base.ts";
import { devSetup } from "./setup/dev-setup.ts";
import { deviceKey, makeChain, backend, fullSegment, EPOCH, IMAGE_ID } from "./fixtures.ts";

type Stats = ProveResult["stats"];
/** Seconds spent in witness generation, QAP (FFTs), and the multi-exponentiations, from snarkjs's stage log. */
function breakdown(s: Stats): { witness: number; fft: number; msm: number } {
  const at = (name: string) => s.stages.find(([n]) => n.startsWith(name))?.[1] ?? NaN;
  return {
    witness: s.witnessMs / 1000,
    fft: (at("Reading A Points") - at("Building ABC")) / 1000,
    msm: (s.totalMs - at("Reading A Points")) / 1000,
  };
}

const bench: Bench = {
  name: "prove",
  async run(log) {
    const out: BenchResult[] = [];
    await buildCircuits(DEFAULT_CIRCUITS, { log });
    const key = await deviceKey(9);
    let sample: ProveResult | undefined;
    for (const k of [16, 64, 256]) {
      const readings = await makeChain(key, fullSegment(k));
      const pool = new ProverPool(1);
      const runs: Stats[] = [];
      try {
        for (let i = 0; i < 3; i++) {
          const r = await proveClaim({
            readings,
            devicePublicKey: key.publicKey,
            epoch: EPOCH,
            imageId: IMAGE_ID,
            reducer: "sum",
            pool,
          });
          if (r.seal.k !== k) throw new Error(`expected K=${k}, the prover chose ${r.seal.k}`);
          runs.push(r.stats);
          sample = r;
        }
      } finally {
        await pool.close();
      }
      const med = median(runs.map((s) => s.totalMs)) / 1000;
      const parts = runs.map(breakdown);
      const b = {
        witness: median(parts.map((p) => p.witness)),
        fft: median(parts.map((p) => p.fft)),
        msm: median(parts.map((p) => p.msm)),
      };
      const m = readManifest(`readings_sum_${k}`)!;
      const cpu = median(runs.map((s) => s.cpuMs)) / 1000;
      // snarkjs reports its stages; the native and Wasm provers do not, so only the witness is split out
      const split =
        runs[0]!.backend === "native" || runs[0]!.backend === "wasm"
          ? `${runs[0]!.backend} prover; witness ${b.witness.toFixed(2)} s`
          : `witness ${b.witness.toFixed(2)} s, QAP/FFT ${b.fft.toFixed(2)} s, MSM ${b.msm.toFixed(2)} s`;
      const note = `load avg ${loadavg()[0]!.toFixed(1)}; CPU ${cpu.toFixed(2)} s; ${split}; ${m.constraints} constraints, 2^${m.domainPower}`;
      log(
        `K=${k}: median ${med.toFixed(2)} s (${note}), peak RSS ${(Math.max(...runs.map((s) => s.maxRssKb)) / 1024).toFixed(0)} MiB`,
      );
      out.push({ id: `prove.k${k}.median_s`, value: med, unit: "s", note });
      out.push({
        id: `prove.k${k}.cpu_s`,
        value: cpu,
        unit: "s",
        note: "CPU seconds of the proving process (all threads): about twice the wall time on two idle cores",
      });
      out.push({ id: `prove.k${k}.constraints`, value: m.constraints, unit: "constraints" });
      out.push({ id: `prove.k${k}.peak_rss_mb`, value: Math.max(...runs.map((s) => s.maxRssKb)) / 1024, unit: "MiB" });
    }

    // Registration.
    {
      const owner = "0x" + "11".repeat(20);
      const registry = "0x" + "22".repeat(20);
      const signature = (await backend()).sign(
        key.privateKey,
        registrationMessage(BigInt(owner), 1n, BigInt(registry)),
      );
      const pool = new ProverPool(1);
      const times: number[] = [];
      try {
        for (let i = 0; i < 3; i++)
          times.push(
            (await proveRegistration({ publicKey: key.publicKey, signature, owner, chainId: 1n, registry, pool })).stats
              .totalMs / 1000,
          );
      } finally {
        await pool.close();
      }
      out.push({
        id: "prove.register.median_s",
        value: median(times),
        unit: "s",
        note: `${readManifest("register")!.constraints} constraints`,
      });
      out.push({ id: "prove.register.constraints", value: readManifest("register")!.constraints, unit: "constraints" });
    }

    // Off-chain verification (in-process, warm curve).
    {
      const applet = { imageId: sample!.claim.imageId, reducer: sample!.claim.reducer, param: sample!.claim.param };
      await verifyReceipt(sample!, { applet });
      const times: number[] = [];
      for (let i = 0; i < 20; i++) {
        const t0 = performance.now();
        if (!(await verifyReceipt(sample!, { applet }))) throw new Error("a benchmark receipt failed to verify");
        times.push(performance.now() - t0);
      }
      out.push({
        id: "verify.offchain.median_ms",
        value: median(times),
        unit: "ms",
        note: "snarkjs groth16.verify, K=256 receipt",
      });
    }
    await closeProver();

    // First-run dev setup for every default circuit (keys from the compiled R1CS; compile is cached separately).
    {
      const dir = mkdtempSync(join(tmpdir(), "mfi-setup-bench-"));
      const pool = new FixedBasePool(2);
      const t0 = performance.now();
      try {
        for (const name of DEFAULT_CIRCUITS) {
          const a = artifactsOf(name);
          const d = join(dir, name);
          mkdirSync(d);
          const t = performance.now();
          await devSetup({
            name,
            pool,
            files: { r1cs: a.r1cs, zkey: join(d, "k.zkey"), vkey: join(d, "vk.json"), solidity: join(d, "v.sol") },
          });
          log(`setup ${name}: ${((performance.now() - t) / 1000).toFixed(1)} s`);
        }
      } finally {
        await pool.close();
        await closeProver();
        rmSync(dir, { recursive: true, force: true });
      }
      const compile = DEFAULT_CIRCUITS.reduce((s, n) => s + (readManifest(n)?.compileSeconds ?? 0), 0);
      out.push({
        id: "setup.dev.first_run_s",
        value: (performance.now() - t0) / 1000,
        unit: "s",
        note: `load avg ${loadavg()[0]!.toFixed(1)}; keys for ${DEFAULT_CIRCUITS.length} circuits; circom2 compile adds ${compile.toFixed(0)} s (from the build manifests)`,
      });
      out.push({
        id: "setup.compile_s",
        value: compile,
        unit: "s",
        note: "circom2 (Wasm) --O2, all default circuits, as measured by the last build",
      });
    }
    return out;
  },
};
export default bench;
