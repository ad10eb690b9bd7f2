/**
 * The run and its proof see the same readings (issue 23): a run is made only over an epoch no reading can still
 * arrive for, and the prover proves from the run's own readings (its seq range). Seen in a `--db postgres` devnet: a
 * prover failed with "no proof exists for output …" because readings of the epoch were stored while the scheduler
 * closed it (it listed the epoch, then found the chain past its end) and the prover read the epoch again.
 * Real SQLite store; the prover here is a stand-in with the circuit's rule: the segment is every reading of the epoch.
 */
import { describe, expect, it } from "vitest";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { genesisHash, hashReading, packEpoch, padValues, type SignedReading } from "../device-sdk/index.ts";
import { openStore, type ReadingStore, type StoreSet } from "../store/index.ts";
import { ProofRefusedError } from "./errors.ts";
import type { AppletSpec, ChainPort, ProvePort, RunPort } from "./ports.ts";
import { EpochWorker } from "./worker.ts";

const EPOCH = 10_000;
const sig = { R8x: 1n, R8y: 2n, S: 3n };
const deviceId = 42n;
const applet: AppletSpec = { imageId: "cd".repeat(32), name: "sum", wasm: new Uint8Array([0]), rewardPerUnit: 1n };

/** Readings continuing the device's chain from `head` (seq, hash). */
function extend(head: { seq: bigint; hash: bigint }, points: [ts: number, v: number, signed: boolean][]) {
  let { seq, hash: prev } = head;
  return points.map(([ts, v, signed]): SignedReading => {
    const r = { deviceId, seq: ++seq, ts: BigInt(ts), values: padValues([BigInt(v)]), prev };
    prev = hashReading(r);
    return { ...r, hash: prev, signature: signed ? sig : null };
  });
}

async function append(store: StoreSet, points: [number, number, boolean][]) {
  const last = await store.lastReading(deviceId);
  const head = last ? { seq: last.seq, hash: last.hash } : { seq: 0n, hash: genesisHash(deviceId) };
  expect((await store.appendReadings(deviceId, extend(head, points), 0)).ok).toBe(true);
}

async function setup() {
  const store = openStore(join(mkdtempSync(join(tmpdir(), "mfi-epoch-readings-")), "db.sqlite"));
  await store.insertDevice({
    deviceId,
    publicKey: { x: 1n, y: 2n },
    owner: "0x" + "11".repeat(20),
    chainId: 31337n,
    registry: "0x" + "00".repeat(20),
    signature: sig,
    registeredAt: 0,
  });
  await append(store, [
    [1_000, 5, false],
    [3_000, 7, true],
  ]);
  return store;
}

const sumRun: RunPort = async ({ deviceId: d, readings }) => ({
  inputDigest: "i",
  journal: new Uint8Array([1]),
  journalDigest: "j",
  fuelUsed: 1n,
  stateRoot: "s",
  state: new Uint8Array(),
  claims: [{ deviceId: d, output: readings.reduce((a, r) => a + r.values[0]!, 0n) }],
});

/** The circuit's rule: the output is the sum over every reading of the epoch in the segment it is given. */
function circuitProver(seen: bigint[][]): ProvePort {
  return async (a) => {
    const end = a.epoch.startMs + a.epoch.lengthMs;
    const segment = [...a.inside, ...a.after].filter((r) => r.ts >= a.epoch.startMs && r.ts < end);
    seen.push(a.inside.map((r) => r.seq));
    const sum = segment.reduce((x, r) => x + r.values[0]!, 0n);
    if (sum !== a.output)
      throw new ProofRefusedError(`no proof exists for output ${a.output} (the epoch sums to ${sum})`);
    return {
      receipt: "{}",
      calldata: { imageId: a.applet.imageId, deviceId, epoch: packEpoch(a.epoch), output: a.output, proof: "0x" },
    };
  };
}

const noChain: ChainPort = {
  isClaimed: async () => false,
  submit: async () => new Promise(() => {}),
  waitPaid: async () => ({ status: "unknown" }),
};

function worker(store: ReadingStore & StoreSet, reads: ReadingStore, now: number, seen: bigint[][]) {
  return new EpochWorker({
    store: reads,
    workerStore: store.worker,
    run: sumRun,
    prove: circuitProver(seen),
    chain: noChain,
    epochMs: EPOCH,
    graceMs: 0,
    now: () => now,
  });
}

async function pass(w: EpochWorker) {
  await w.closeEpochs();
  await w.startProofs();
  await new Promise((r) => setTimeout(r, 50));
  await w.idle();
}

describe("the run and its proof see the same readings", () => {
  it("readings stored while the epoch is being closed are in the run, and the proof is of the run's output", async () => {
    const store = await setup();
    // Two readings arrive just after the worker lists the epoch: one inside it, then the signed one past its end.
    let armed = true;
    const reads: ReadingStore = Object.create(store, {
      listReadings: {
        value: async (q: Parameters<ReadingStore["listReadings"]>[0]) => {
          const r = await store.listReadings(q);
          if (armed && q.fromTs !== undefined) {
            armed = false;
            await append(store, [
              [9_000, 100, false],
              [10_500, 1, true],
            ]);
          }
          return r;
        },
      },
    });
    const seen: bigint[][] = [];
    const w = worker(store, reads, EPOCH + 1, seen);
    await w.addApplet(applet, 0);
    await pass(w);
    await pass(w);
    const [run] = await store.worker.listRuns();
    expect(run).toMatchObject({ from_seq: 1, to_seq: 3, reading_count: 3 });
    const [claim] = await store.worker.listClaims();
    expect(claim).toMatchObject({ output: "112", state: "proved" });
    expect(seen).toEqual([[1n, 2n, 3n]]);
    await w.stop();
  });

  it("a reading of the epoch stored after its run (as the race above left runs): refused before proving, with the reason", async () => {
    const store = await setup();
    const seen: bigint[][] = [];
    const w = worker(store, store, EPOCH + 1, seen);
    await w.addApplet(applet, EPOCH); // the worker closes no epoch: the run below is the one the race made
    const readings = await store.listReadings({ deviceId, fromSeq: 1n });
    const outcome = await sumRun({
      applet,
      epoch: { startMs: 0n, lengthMs: BigInt(EPOCH) },
      deviceId,
      readings,
      state: undefined,
    });
    await store.worker.recordRun({
      applet,
      deviceId,
      epoch: packEpoch({ startMs: 0n, lengthMs: BigInt(EPOCH) }),
      readings,
      stateBefore: undefined,
      outcome,
      claims: outcome.claims,
      now: 0,
    });
    await append(store, [
      [9_000, 100, false],
      [10_500, 1, true],
    ]);
    await pass(w);
    const [claim] = await store.worker.listClaims();
    expect(claim!.state).toBe("failed");
    expect(claim!.error).toMatch(
      /reading seq 3 \(ts 9000\) of the epoch was stored after the run, which saw seq 1\.\.2/,
    );
    expect(seen).toEqual([]); // refused before any proving
    await w.stop();
  });
});
