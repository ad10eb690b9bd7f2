/**
 * `npm run bench -- applet` → build/bench/applet.json: compiled applets (issue 18). The first-run cost of a new
 * applet's circuit at K=16 (applet compiler + circom2 + dev setup, in a fresh directory), every example applet's
 * compiled main at K=16 and K=64 (constraints, median proving time over 3 full-segment proofs) and energy-sum's
 * overhead against the hand-written readings_sum_16 (the issue's 12,674 constraints).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { loadavg, tmpdir } from "node:os";
import type { Bench, BenchResult } from "../../core/index.ts";
import { median } from "../../core/index.ts";
import { APPLETS_DIR, compileApplet as compileAs } from "../../toolchain/index.ts";
import { loadBuiltApplet } from "../../toolchain/index.ts";
import { EPOCH, deviceKey, makeChain, type Point } from "../fixtures.ts";
import { ProverPool } from "../pool.ts";
import { closeProver } from "../prover.ts";
import { readManifest } from "../setup/build.ts";
import { NotProvableError } from "./errors.ts";
import { setupAppletCircuit } from "./keys.ts";
import { proveAppletClaim } from "./prove.ts";

/** The issue's baseline: readings_sum_16 before the issue-16 value range check. */
const HAND_WRITTEN_SUM_16 = 12_674;
const K = 16;
/** Every example applet under applets/ with its manifest param (uptime-streak is stateful: proven from the empty state). */
const APPLETS: { name: string; param?: bigint }[] = [
  { name: "energy-sum" },
  { name: "threshold-alert", param: 300n },
  { name: "uptime-streak", param: 0n },
  { name: "peak-energy" },
  { name: "meter-delta" },
];

const bench: Bench = {
  name: "applet",
  async run(log) {
    const out: BenchResult[] = [];
    {
      // An applet set up in a fresh directory (nothing cached): everything a first use costs.
      const wasm = (await compileAs({ entry: join(APPLETS_DIR, "peak-energy", "assembly", "index.ts") })).wasm;
      const dir = mkdtempSync(join(tmpdir(), "mfi-applet-setup-"));
      try {
        const t0 = performance.now();
        const c = await setupAppletCircuit({ wasm, k: K, buildDir: dir, log });
        const s = (performance.now() - t0) / 1000;
        out.push({
          id: "setup.applet.first_run_s",
          value: s,
          unit: "s",
          note: `peak-energy K=${K}, ${c.constraints} constraints, 2^${c.domainPower}; compiler ${c.compileAppletSeconds.toFixed(2)} s, circom2 ${c.circomSeconds.toFixed(1)} s, setup ${c.setupSeconds.toFixed(1)} s; load avg ${loadavg()[0]!.toFixed(1)}; goal ≤ 60 s`,
        });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
    const key = await deviceKey(9);
    for (const applet of APPLETS) {
      const wasm = loadBuiltApplet(applet.name);
      const id = applet.name.replace(/-/g, "_");
      for (const k of [K, 64]) {
        const hasParam = applet.param !== undefined;
        let circuit;
        try {
          circuit = await setupAppletCircuit({ wasm, k, hasParam, stateful: true, log });
        } catch (e) {
          if (!(e instanceof NotProvableError)) throw e;
          log(`applet ${applet.name}: not provable (${e.reason}), no numbers`);
          break;
        }
        // Worst case for k slots: one reading before the epoch, k − 1 inside, one signed after it.
        const pts: Point[] = [{ ts: EPOCH.startMs - 1n, v: 1n }];
        for (let i = 0; i < k - 1; i++) pts.push({ ts: EPOCH.startMs + BigInt(i) * 100n, v: BigInt(1000 + i) });
        pts.push({ ts: EPOCH.startMs + EPOCH.lengthMs, v: 0n, sign: true });
        const readings = await makeChain(key, pts);
        const pool = new ProverPool(1);
        const times: number[] = [];
        try {
          for (let i = 0; i < 3; i++)
            times.push(
              (
                await proveAppletClaim({
                  circuit,
                  wasm,
                  readings,
                  devicePublicKey: key.publicKey,
                  epoch: EPOCH,
                  pool,
                  param: applet.param,
                })
              ).stats.totalMs / 1000,
            );
        } finally {
          await pool.close();
          await closeProver();
        }
        out.push({
          id: `prove.applet.${id}.k${k}_s`,
          value: median(times),
          unit: "s",
          note: `median of 3, ${circuit.constraints} constraints, 2^${circuit.domainPower}; load avg ${loadavg()[0]!.toFixed(1)}`,
        });
        out.push({
          id: k === K ? `prove.applet.${id}.constraints` : `prove.applet.${id}.k${k}_constraints`,
          value: circuit.constraints,
          unit: "constraints",
          note: `K=${k}: ReadingsChain(${k}) + the compiled claim + the epoch's bits; readings_sum_${k}: ${readManifest(`readings_sum_${k}`)?.constraints ?? "not built"}`,
        });
        if (applet.name !== "energy-sum" || k !== K) continue;
        const sum16 = readManifest("readings_sum_16")?.constraints;
        out.push({
          id: "prove.applet.overhead_ratio",
          value: circuit.constraints / HAND_WRITTEN_SUM_16,
          unit: "×",
          baseline: HAND_WRITTEN_SUM_16,
          ratio: circuit.constraints / HAND_WRITTEN_SUM_16,
          note: `compiled energy-sum ÷ the issue's readings_sum_16 (goal ≤ 1.4)${sum16 ? `; today's readings_sum_16 (with the value range check) has ${sum16}: ${(circuit.constraints / sum16).toFixed(2)}×` : ""}`,
        });
      }
    }
    return out;
  },
};
export default bench;
