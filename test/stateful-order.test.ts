/**
 * Issue 18: the submitter's epoch order for stateful claims, on the real runtime and a real SQLite store with a chain
 * port that behaves as PayoutVault.claimStateful does (a claim is paid only from the device's stored state). Proofs
 * are made in any order; a claim waits until its stateIn is the chain's state; a claim whose epoch the chain has
 * passed, that no earlier payment can reach, or that waited longer than stateWaitMs, fails with the reason.
 * (test/stateful-worker.test.ts runs the real prover and vault.)
 */
import { describe, expect, it } from "vitest";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { imageIdHex } from "../core/index.ts";
import { genesisHash, hashReading, padValues, packEpoch, type SignedReading } from "../device-sdk/index.ts";
import { Engine, imageIdOf } from "../runtime/index.ts";
import { openStore } from "../store/index.ts";
import { EpochWorker, runtimeRunPort, type ChainPort, type ProvePort, type WorkerEvent } from "../worker/index.ts";

const EPOCH = 10_000;
const sig = { R8x: 1n, R8y: 2n, S: 3n };
const deviceId = 42n;

function readings(n: number): SignedReading[] {
  let prev = genesisHash(deviceId);
  return Array.from({ length: n }, (_, i) => {
    const r = { deviceId, seq: BigInt(i + 1), ts: BigInt(1000 + i * 4000), values: padValues([1n]), prev };
    prev = hashReading(r);
    return { ...r, hash: prev, signature: sig };
  });
}

/**
 * Claim of epoch i (1-based) starts from state i and ends in state i + 1: epoch 1 from the chain's empty state 1.
 * `unchanged`: every epoch leaves the state as it found it (state 1 throughout).
 */
const prover =
  (unchanged = false): ProvePort =>
  async (a) => {
    const i = BigInt(a.epoch.startMs / BigInt(EPOCH)) + 1n;
    // the later epochs are proved first
    await new Promise((r) => setTimeout(r, unchanged ? Number(5n - i) * 500 : Number(40n / i)));
    return {
      receipt: "{}",
      calldata: {
        imageId: a.applet.imageId,
        deviceId: a.device.deviceId,
        epoch: packEpoch(a.epoch),
        output: a.output,
        proof: "0x",
        stateIn: unchanged ? 1n : i,
        stateOut: unchanged ? 1n : i + 1n,
      },
    };
  };

/** PayoutVault.claimStateful's order: a claim whose stateIn is not the stored state reverts. */
function vault(start: { state: bigint; lastEpoch: bigint }): ChainPort & { paid: bigint[]; reverted: number } {
  const chain = { ...start, paid: [] as bigint[], reverted: 0 };
  const sent = new Map<string, { epoch: bigint; stateIn: bigint; stateOut: bigint }>();
  let n = 0;
  return {
    get paid() {
      return chain.paid;
    },
    get reverted() {
      return chain.reverted;
    },
    isClaimed: async () => false,
    stateOf: async () => ({ state: chain.state, lastEpoch: chain.lastEpoch }),
    async submit(c) {
      const h = `0x${(++n).toString(16)}`;
      sent.set(h, { epoch: c.epoch, stateIn: c.stateIn!, stateOut: c.stateOut! });
      return { txHash: h };
    },
    async waitPaid(h) {
      const c = sent.get(h)!;
      if (c.stateIn !== chain.state || c.epoch <= chain.lastEpoch) {
        chain.reverted++;
        return { status: "reverted", error: "PayoutVault__StateMismatch" };
      }
      Object.assign(chain, { state: c.stateOut, lastEpoch: c.epoch });
      chain.paid.push(c.epoch);
      return { status: "paid", reward: 1n, gasUsed: 1n };
    },
  };
}

/** `clock`: the worker's time, moved on by `step` ms per pass (else 50 s plus the time passed). */
async function runWorker(
  L1: ChainPort,
  o: { stateWaitMs?: number } = {},
  prove = prover(),
  clock?: { now: number; step: number },
) {
  const store = openStore(join(mkdtempSync(join(tmpdir(), "mfi-order-")), "db.sqlite"));
  await store.insertDevice({
    deviceId,
    publicKey: { x: 1n, y: 2n },
    owner: "0x" + "11".repeat(20),
    chainId: 31337n,
    registry: "0x" + "00".repeat(20),
    signature: sig,
    registeredAt: 0,
  });
  expect((await store.appendReadings(deviceId, readings(12), 0)).ok).toBe(true);
  const wasm = new Uint8Array(readFileSync("build/applets/uptime-streak.wasm"));
  const events: WorkerEvent[] = [];
  const t0 = Date.now();
  const w = new EpochWorker({
    store,
    workerStore: store.worker,
    run: runtimeRunPort(new Engine()),
    prove,
    chain: L1,
    epochMs: EPOCH,
    graceMs: 0,
    now: clock ? () => clock.now : () => 50_000 + (Date.now() - t0),
    proverConcurrency: 4,
    onEvent: (e) => events.push(e),
    ...o,
  });
  await w.addApplet(
    { imageId: imageIdHex(imageIdOf(wasm)), name: "uptime-streak", wasm, param: 0n, rewardPerUnit: 1n },
    0,
  );
  for (let i = 0; i < 60; i++) {
    if (clock) clock.now += clock.step;
    await w.tick();
    const claims = await store.worker.listClaims(10);
    if (claims.length === 4 && claims.every((c) => c.state === "paid" || c.state === "failed")) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  await w.stop();
  const claims = (await store.worker.listClaims(10)).sort((a, b) => Number(BigInt(a.epoch) - BigInt(b.epoch)));
  const runs = await store.worker.listRuns(10);
  await store.close();
  return { claims, events, runs };
}

const epochs = [0, 1, 2, 3].map((i) => packEpoch({ startMs: BigInt(i * EPOCH), lengthMs: BigInt(EPOCH) }));

describe("stateful claims are sent in epoch order (issue 18)", () => {
  it("a claim proved early waits for the earlier epoch's payment; all four are paid in order", async () => {
    const L1 = vault({ state: 1n, lastEpoch: 0n });
    const { claims } = await runWorker(L1);
    expect(claims.map((c) => c.state)).toEqual(["paid", "paid", "paid", "paid"]);
    expect(L1.paid).toEqual(epochs);
    expect(L1.reverted).toBe(0);
  }, 120_000);

  it("a later epoch whose stateIn is already the chain's (the state did not change) waits for the earlier ones", async () => {
    // Sent first, epoch 4 would be paid (its stateIn matches) and leave epochs 1-3 unpayable (EpochNotAfterState).
    const L1 = vault({ state: 1n, lastEpoch: 0n });
    const { claims } = await runWorker(L1, {}, prover(true));
    expect(claims.map((c) => c.state)).toEqual(["paid", "paid", "paid", "paid"]);
    expect(L1.paid).toEqual(epochs);
    expect(L1.reverted).toBe(0);
  }, 120_000);

  it("a node that answers from before the last payment for a few seconds does not fail the next claim (30 s grace)", async () => {
    // stateOf answers the state before the latest payment for 5 s of the worker's clock after it (a load-balanced
    // node a block behind): the next claim's stateIn is then reachable by no unsettled earlier epoch
    const L1 = vault({ state: 1n, lastEpoch: 0n });
    const clock = { now: 50_000, step: 1000 };
    let fresh = { state: 1n, lastEpoch: 0n };
    let prev = fresh;
    let changedAt = -Infinity;
    let lagged = 0;
    const behind: ChainPort = {
      ...L1,
      async stateOf(imageId, id) {
        const now = await L1.stateOf!(imageId, id);
        if (now.lastEpoch !== fresh.lastEpoch) [prev, fresh, changedAt] = [fresh, now, clock.now];
        if (clock.now - changedAt >= 5000) return now;
        lagged++;
        return prev;
      },
    };
    const { claims } = await runWorker(behind, {}, prover(), clock);
    expect(claims.map((c) => c.state)).toEqual(["paid", "paid", "paid", "paid"]);
    expect(L1.paid).toEqual(epochs);
    expect(L1.reverted).toBe(0);
    expect(lagged).toBeGreaterThan(0);
  }, 120_000);

  it("with the chain unreachable no run is stored (not 'nothing paid'): the epochs run once it answers", async () => {
    // the RPC refuses for the first 3 passes: runs from a state the chain never confirmed would be stored for good
    const L1 = vault({ state: 1n, lastEpoch: 0n });
    const clock = { now: 50_000, step: 1000 };
    let refused = 0;
    const down: ChainPort = {
      ...L1,
      async stateOf(imageId, id) {
        if (clock.now < 54_000) throw (refused++, new Error("connect ECONNREFUSED 127.0.0.1:8545"));
        return L1.stateOf!(imageId, id);
      },
    };
    const { claims, events, runs } = await runWorker(down, {}, prover(), clock);
    expect(refused).toBeGreaterThan(0);
    expect(runs.map((r) => r.created_at_ms).every((t) => t >= 54_000)).toBe(true);
    expect(events.filter((e) => e.type === "run")).toHaveLength(4);
    expect(claims.map((c) => c.state)).toEqual(["paid", "paid", "paid", "paid"]);
    expect(L1.paid).toEqual(epochs);
  }, 120_000);

  it("fails a claim whose epoch the chain has already passed, with the reason", async () => {
    const L1 = vault({ state: 99n, lastEpoch: epochs[3]! });
    const { claims } = await runWorker(L1);
    expect(claims.map((c) => c.state)).toEqual(["failed", "failed", "failed", "failed"]);
    expect(claims[0]!.error).toMatch(/not the device's state on chain .*a later epoch was paid first/);
    expect(L1.reverted).toBe(0);
  }, 120_000);

  it("fails a claim that no payment can start any more, or that waited longer than stateWaitMs", async () => {
    const L1 = vault({ state: 99n, lastEpoch: 0n });
    const { claims } = await runWorker(L1, { stateWaitMs: 0 });
    expect(claims.map((c) => c.state)).toEqual(["failed", "failed", "failed", "failed"]);
    // epoch 1 has nothing earlier to wait for: failed at once (the device's next run re-syncs from the chain)
    expect(claims[0]!.error).toMatch(/not the device's state on chain .*no earlier epoch of the device is left to pay/);
    // a later one failed either after stateWaitMs while an earlier epoch was unsettled, or once none was
    for (const c of claims.slice(1))
      expect(c.error).toMatch(/an earlier epoch's claim was not paid|no earlier epoch of the device is left to pay/);
    expect(L1.paid).toEqual([]);
  }, 120_000);
});
