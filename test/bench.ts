/**
 * End-to-end numbers (build/bench/e2e.json), on the real stack (anvil, SQLite, HTTP, Wasm, Groth16):
 * - e2e.epoch_to_paid.k16_s: from the moment an epoch can be closed to the payout confirmed on anvil, one device,
 *   a 14-reading epoch (segment of 16 with the reading before and the signed one after), on a worker whose prover
 *   pool is warm (as a running worker's is: it warms at start, issue 25; the warm-up is e2e.prover_warmup_s).
 *   Baseline: the bare proving time of that claim measured in the same run (ratio = pipeline ÷ proof alone); the
 *   split: e2e.epoch_to_paid.k16.{close_s, proof_s, pay_s} (epoch closed → claim recorded, its proof, proved → paid).
 * - e2e.claims_per_min.10dev: 10 devices, 3 closed epochs each, 2 provers; claims paid per minute. Baseline: the
 *   proving rate alone (2 ÷ proof time), so the ratio shows what the rest of the pipeline costs.
 */
import type { Devnet } from "../cli/devnet/devnet.ts";
import { loadavg } from "node:os";
import type { Bench, BenchResult } from "../core/index.ts";
import { startHistoricalDevnet, waitFor } from "./helpers.ts";

const EPOCH = 20_000;

async function devnet(devices: number, provers: number): Promise<{ net: Devnet; base: number }> {
  const {
    net,
    base,
    devices: registered,
  } = await startHistoricalDevnet({
    epochMs: EPOCH,
    devices,
    owner: () => 0,
    applets: ["energy-sum"],
    proverConcurrency: provers,
  });
  for (const { client } of registered) {
    const epochs = devices === 1 ? 1 : 3;
    const perEpoch = devices === 1 ? 14 : 5;
    const inputs = [];
    for (let e = 0; e < epochs; e++)
      for (let j = 0; j < perEpoch; j++)
        inputs.push({ ts: base + e * EPOCH + 100 + j * 1000, values: [BigInt(10 + j)] });
    inputs.push({ ts: base + epochs * EPOCH + 100, values: [1n] });
    await client.sendBatch(inputs);
  }
  return { net, base };
}

const bench: Bench = {
  name: "e2e",
  async run(log) {
    const out: BenchResult[] = [];
    const load = () =>
      `load average ${loadavg()
        .map((x) => x.toFixed(1))
        .join(" / ")} on 2 cores`;
    {
      const { net } = await devnet(1, 1);
      const warm = await net.proverWarm();
      const warmS = (warm?.sinceStartMs ?? 0) / 1000;
      log(
        `prover pool warm in ${warmS.toFixed(2)} s (${warm?.processes} ${warm?.backend} process, ${warm?.keysPerProcess} keys held, ${warm?.compiled} witness modules compiled, ${((warm?.bytesPerProcess ?? 0) / 2 ** 20).toFixed(0)} MB)`,
      );
      const t0 = performance.now();
      const wall0 = Date.now();
      // When each claim state was first seen (polled every 10 ms).
      const seen = new Map<string, number>();
      net.worker.start(50);
      await waitFor(
        async () => {
          const c = (await net.store.worker.listClaims(10))[0];
          if (c && !seen.has(c.state)) seen.set(c.state, performance.now());
          return c?.state === "paid";
        },
        600_000,
        10,
      );
      const total = (performance.now() - t0) / 1000;
      const claim = (await net.store.worker.listClaims(10)).find((c) => c.state === "paid")!;
      const proveS = (claim.prove_ms ?? 0) / 1000;
      const closeS = (claim.created_at_ms - wall0) / 1000;
      const proved = seen.get("proved") ?? seen.get("submitted") ?? seen.get("paid")!;
      const payS = (seen.get("paid")! - proved) / 1000;
      log(
        `epoch → paid ${total.toFixed(2)} s (closed → claim ${closeS.toFixed(2)} s, proof ${proveS.toFixed(2)} s, proved → paid ${payS.toFixed(2)} s; circuit ${JSON.parse(claim.receipt!).seal.circuit}); ${load()}`,
      );
      out.push(
        {
          id: "e2e.epoch_to_paid.k16_s",
          value: total,
          unit: "s",
          baseline: proveS,
          ratio: total / proveS,
          note: `baseline: proving time of the same claim; prover pool warm (its warm-up took ${warmS.toFixed(1)} s from the worker's start, before the epoch closed); ${load()}`,
        },
        {
          id: "e2e.epoch_to_paid.k16.close_s",
          value: closeS,
          unit: "s",
          note: "epoch closable → applet run and claim recorded",
        },
        { id: "e2e.epoch_to_paid.k16.proof_s", value: proveS, unit: "s", note: "the claim's proof (prove_ms)" },
        {
          id: "e2e.epoch_to_paid.k16.pay_s",
          value: payS,
          unit: "s",
          note: "proof stored (claim seen proved, 10 ms polls) → PayoutVault.claim mined and the claim marked paid",
        },
        {
          id: "e2e.prover_warmup_s",
          value: warmS,
          unit: "s",
          note: `worker start → prover pool warm (processes, self-check, keys); ${load()}`,
        },
      );
      await net.stop();
    }
    {
      const { net } = await devnet(10, 2);
      await net.proverWarm();
      const t0 = performance.now();
      net.worker.start(50);
      await waitFor(async () => (await net.store.worker.claimCounts()).paid >= 30, 1_800_000, 50);
      const minutes = (performance.now() - t0) / 60_000;
      const rate = 30 / minutes;
      const proofs = (await net.store.worker.listClaims(100)).map((c) => c.prove_ms ?? 0).filter((x) => x > 0);
      const meanProve = proofs.reduce((a, x) => a + x, 0) / proofs.length / 1000;
      const proveRate = (2 * 60) / meanProve;
      log(
        `30 claims in ${(minutes * 60).toFixed(1)} s: ${rate.toFixed(1)}/min (mean proof ${meanProve.toFixed(2)} s with 2 provers)`,
      );
      out.push({
        id: "e2e.claims_per_min.10dev",
        value: rate,
        unit: "claims/min",
        baseline: proveRate,
        ratio: rate / proveRate,
        note: `baseline: 2 provers' rate at the measured mean proof time; ${load()}`,
      });
      await net.stop();
    }
    return out;
  },
};
export default bench;
