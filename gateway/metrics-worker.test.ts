/**
 * /metrics of a listening gateway over a worker store with runs, proofs and payouts: every series the docs and alerts
 * name exists, counters are counters, the reward is in token units, the proving histogram is per circuit, the oldest
 * pending claim has an age and the chain's reachability is 1 against a real anvil and 0 against a closed port.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAnvil, type Anvil } from "../contracts/index.ts";
import { openStore, type AppletSpec, type RunOutcome } from "../store/index.ts";
import { startGateway, type RunningGateway } from "./server.ts";
import { REJECTION_REASONS, TRAP_KINDS, tokenUnits } from "./metrics.ts";

const applet: AppletSpec = {
  imageId: `0x${"a".repeat(64)}`,
  name: "energy-sum",
  wasm: new Uint8Array([0, 97, 115, 109]),
  rewardPerUnit: 1n,
};
const outcome = (trap?: string): RunOutcome => ({
  inputDigest: "00",
  journal: new Uint8Array(0),
  journalDigest: "00",
  fuelUsed: 100n,
  stateRoot: "00",
  state: new Uint8Array(0),
  ...(trap ? { trap: { kind: trap, message: "boom" } } : {}),
  claims: [],
});

let anvil: Anvil;
const open: RunningGateway[] = [];
beforeAll(async () => {
  anvil = await startAnvil();
});
afterAll(async () => {
  for (const g of open) await g.close();
  await anvil?.stop();
});

async function filledStore() {
  const store = openStore(":memory:");
  const w = store.worker;
  await store.insertDevice({
    deviceId: 1n,
    publicKey: { x: 1n, y: 1n },
    owner: "0xaaa",
    chainId: 31337n,
    registry: "0x0",
    signature: { R8x: 1n, R8y: 2n, S: 3n },
    registeredAt: 0,
  });
  await w.upsertApplet(applet, 0, 0);
  const now = Date.now();
  for (const epoch of [1n, 2n, 3n])
    await w.recordRun({
      applet,
      deviceId: 1n,
      epoch,
      readings: [{ seq: 1n } as never],
      stateBefore: undefined,
      outcome: outcome(),
      claims: [{ deviceId: 1n, output: 7n }],
      now: now - 90_000,
    });
  await w.recordRun({
    applet,
    deviceId: 1n,
    epoch: 4n,
    readings: [{ seq: 1n } as never],
    stateBefore: undefined,
    outcome: outcome("OutOfFuel"),
    claims: [],
    now,
  });
  const [c1, c2] = (await w.listClaims(10)).reverse();
  const receipt = JSON.stringify({ seal: { circuit: "applet_aaaa_k16" } });
  await w.markProved(c1!.id, receipt, "{}", 1200, now);
  await w.markProved(c2!.id, receipt, "{}", 30_000, now);
  await w.markSubmitted(c1!.id, "0x1", now);
  await w.markPaid(c1!.id, { reward: 24_000_000_000_000_000n, gasUsed: 300_000n }, now);
  return store;
}

async function scrape(g: RunningGateway): Promise<string> {
  const res = await fetch(`${g.url}/metrics`);
  expect(res.status).toBe(200);
  return res.text();
}

describe("worker figures in /metrics", () => {
  it("exports every documented series from a real gateway's /metrics", async () => {
    const store = await filledStore();
    const g = await startGateway({ store, workerStatus: store.worker, verifyWorkers: 0, rpcUrl: anvil.rpcUrl });
    open.push(g);
    const text = await scrape(g);
    // Present from the start, at 0.
    for (const reason of REJECTION_REASONS)
      expect(text).toMatch(new RegExp(`^mfi_ingest_rejections_total\\{reason="${reason}",transport="http"\\} 0$`, "m"));
    for (const kind of TRAP_KINDS)
      expect(text).toMatch(
        new RegExp(`^mfi_worker_traps_total\\{kind="${kind}"\\} ${kind === "OutOfFuel" ? 1 : 0}$`, "m"),
      );
    // No gauge of ours is named _total (prom-client's Node.js defaults keep their standard names, e.g. the gauge
    // nodejs_active_handles_total, which the usual Node.js dashboards read).
    for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm))
      if (name!.endsWith("_total") && !/^mfi_(nodejs|process)_/.test(name!))
        expect(`${name} ${type}`).toBe(`${name} counter`);
    expect(text).toMatch(/^# TYPE mfi_worker_reward_paid_total counter$/m);
    expect(text).toMatch(/^mfi_worker_reward_paid_total 0\.024$/m);
    expect(text).toMatch(/^mfi_worker_claims_paid_total 1$/m);
    expect(text).toMatch(/^mfi_worker_runs_total 4$/m);
    // The third claim has waited ~90 s.
    const age = Number(/^mfi_worker_oldest_pending_claim_age_seconds (\S+)$/m.exec(text)?.[1]);
    expect(age).toBeGreaterThanOrEqual(89);
    expect(age).toBeLessThan(3600);
    expect(text).toMatch(/^# TYPE mfi_worker_prove_duration_seconds histogram$/m);
    expect(text).toMatch(/^mfi_worker_prove_duration_seconds_bucket\{circuit="applet_aaaa_k16",le="2.5"\} 1$/m);
    expect(text).toMatch(/^mfi_worker_prove_duration_seconds_bucket\{circuit="applet_aaaa_k16",le="40"\} 2$/m);
    expect(text).toMatch(/^mfi_worker_prove_duration_seconds_bucket\{circuit="applet_aaaa_k16",le="\+Inf"\} 2$/m);
    expect(text).toMatch(/^mfi_worker_prove_duration_seconds_sum\{circuit="applet_aaaa_k16"\} 31.2$/m);
    expect(text).toMatch(/^mfi_worker_prove_duration_seconds_count\{circuit="applet_aaaa_k16"\} 2$/m);
    expect(text).toMatch(/^mfi_chain_reachable 1$/m);
  });

  it("says the chain is unreachable (0), and has no such series without an RPC URL", async () => {
    const store = openStore(":memory:");
    const down = await startGateway({
      store,
      workerStatus: store.worker,
      verifyWorkers: 0,
      rpcUrl: "http://127.0.0.1:9",
    });
    open.push(down);
    const text = await scrape(down);
    expect(text).toMatch(/^mfi_chain_reachable 0$/m);
    // Nothing pending: age 0, not absent.
    expect(text).toMatch(/^mfi_worker_oldest_pending_claim_age_seconds 0$/m);
    const none = await startGateway({ dbPath: ":memory:", verifyWorkers: 0 });
    open.push(none);
    expect(await scrape(none)).not.toMatch(/mfi_chain_reachable/);
  });

  it("converts the smallest unit to whole tokens", () => {
    expect(tokenUnits(24_000_000_000_000_000n)).toBe(0.024);
    expect(tokenUnits(120_385_000_000_000_000_000n)).toBeCloseTo(120.385, 12);
  });
});
