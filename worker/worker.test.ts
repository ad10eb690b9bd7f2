/**
 * Unit tests of the worker's own logic (epochs, runs, the claim state machine, crash recovery) over a real SQLite
 * store. Runtime, prover and chain are small fakes here; test/ drives the real ones end to end.
 */
import { describe, expect, it } from "vitest";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { genesisHash, hashReading, padValues, packEpoch, type SignedReading } from "../device-sdk/index.ts";
import { openStore, type StoreSet } from "../store/index.ts";
import { EpochWorker, waitReason, type WorkerEvent } from "./worker.ts";
import { AlreadyClaimedError, ChainReadError, ProofRefusedError } from "./errors.ts";
import { replayRun, ReplayError } from "./replay.ts";
import type { AppletSpec, ChainPort, ProvePort, RunPort } from "./ports.ts";

const EPOCH = 10_000;
const sig = { R8x: 1n, R8y: 2n, S: 3n };

function chain(deviceId: bigint, points: [ts: number, v: number, signed: boolean][]): SignedReading[] {
  let prev = genesisHash(deviceId);
  return points.map(([ts, v, signed], i) => {
    const r = { deviceId, seq: BigInt(i + 1), ts: BigInt(ts), values: padValues([BigInt(v)]), prev };
    const hash = hashReading(r);
    prev = hash;
    return { ...r, hash, signature: signed ? sig : null };
  });
}

/** Registers a device in the store (a test key: nothing verifies it here). */
function registerDevice(store: StoreSet, deviceId: bigint, publicKey = { x: 1n, y: 2n }) {
  return store.insertDevice({
    deviceId,
    publicKey,
    owner: "0x" + "11".repeat(20),
    chainId: 31337n,
    registry: "0x" + "00".repeat(20),
    signature: sig,
    registeredAt: 0,
  });
}

async function setup(points: [number, number, boolean][]) {
  const store = openStore(join(mkdtempSync(join(tmpdir(), "mfi-worker-")), "db.sqlite"));
  const deviceId = 42n;
  await registerDevice(store, deviceId);
  const r = await store.appendReadings(deviceId, chain(deviceId, points), 0);
  expect(r.ok).toBe(true);
  return { store, deviceId };
}

const applet: AppletSpec = {
  imageId: "ab".repeat(32),
  name: "sum",
  wasm: new Uint8Array([0, 97, 115, 109]),
  reducer: "sum",
  rewardPerUnit: 10n,
};

const sumRun: RunPort = async ({ deviceId, readings, state }) => {
  const total = readings.reduce((a, r) => a + r.values[0]!, 0n);
  const runs = (state ? state[0]! : 0) + 1;
  return {
    inputDigest: "i",
    journal: new Uint8Array([1]),
    journalDigest: "j",
    fuelUsed: 100n,
    stateRoot: `s${runs}`,
    state: new Uint8Array([runs]),
    claims: [
      { deviceId, output: total },
      { deviceId: 7n, output: 1n },
    ],
  };
};

function fakeChain() {
  const spent = new Set<string>();
  const txs = new Map<string, string>();
  let n = 0;
  const port: ChainPort & { spent: Set<string>; paid: string[]; dropNext: boolean } = {
    spent,
    paid: [],
    dropNext: false,
    async isClaimed(imageId, deviceId, epoch) {
      return spent.has(`${imageId}/${deviceId}/${epoch}`);
    },
    async submit(c) {
      const hash = `0x${(++n).toString(16)}`;
      if (port.dropNext) {
        port.dropNext = false;
        return { txHash: hash }; // "sent" but never mined, as after a crash
      }
      txs.set(hash, `${c.imageId}/${c.deviceId}/${c.epoch}`);
      return { txHash: hash };
    },
    async waitPaid(txHash) {
      const key = txs.get(txHash);
      if (!key) return { status: "unknown", error: "not found" };
      if (spent.has(key)) return { status: "reverted" };
      spent.add(key);
      port.paid.push(key);
      return { status: "paid", reward: 1n, gasUsed: 250_000n };
    },
  };
  return port;
}

const okProve: ProvePort = async (a) => ({
  receipt: "{}",
  calldata: {
    imageId: a.applet.imageId,
    deviceId: a.device.deviceId,
    epoch: packEpoch(a.epoch),
    output: a.output,
    proof: "0x",
  },
});

async function drain(w: EpochWorker, rounds = 5) {
  for (let i = 0; i < rounds; i++) {
    await w.tick();
    await w.idle();
  }
}

describe("EpochWorker", () => {
  it("closes an epoch, stores the run and pays each claim once", async () => {
    const { store, deviceId } = await setup([
      [9_000, 5, true],
      [10_500, 3, false],
      [12_000, 4, true],
      [21_000, 1, false],
      [22_000, 1, true],
    ]);
    const full = chain(deviceId, [
      [9_000, 5, true],
      [10_500, 3, false],
      [12_000, 4, true],
      [21_000, 1, false],
      [22_000, 1, true],
      [31_500, 2, true],
    ]);
    const chainPort = fakeChain();
    const events: WorkerEvent[] = [];
    let now = 25_000;
    const w = new EpochWorker({
      store,
      workerStore: store.worker,
      run: sumRun,
      prove: okProve,
      chain: chainPort,
      epochMs: EPOCH,
      graceMs: 1000,
      now: () => now,
      onEvent: (e) => events.push(e),
    });
    await w.addApplet(applet, 10_000);
    await drain(w);
    const epoch = packEpoch({ startMs: 10_000n, lengthMs: 10_000n });
    const claims = await w.workerStore.listClaims();
    expect(claims).toHaveLength(1); // the claim for another device (7) is dropped
    expect(claims[0]).toMatchObject({
      state: "paid",
      output: "7",
      epoch: epoch.toString(),
      device_id: deviceId.toString(),
    });
    expect(chainPort.paid).toEqual([`${applet.imageId}/${deviceId}/${epoch}`]);
    expect(await w.workerStore.runCounts()).toEqual({ runs: 1, trapped: 0 });
    // The next epoch (20s–30s) closes only once the device's chain has passed it (a reading at or after 30s).
    now = 31_000;
    await drain(w);
    expect((await w.workerStore.runCounts()).runs).toBe(1);
    expect((await store.appendReadings(deviceId, [full[5]!], 0)).ok).toBe(true);
    await drain(w);
    expect((await w.workerStore.runCounts()).runs).toBe(2);
    expect(await w.workerStore.getState(applet.imageId, deviceId)).toEqual(new Uint8Array([2]));
    store.close();
  });

  it("closes each applet's own L1 schedule: its length, aligned to its genesis, none before genesis", async () => {
    const { store, deviceId } = await setup([
      [9_000, 5, true],
      [10_500, 3, false],
      [12_000, 4, true],
      [21_000, 1, false],
      [22_000, 1, true],
      [31_500, 2, true],
    ]);
    const chainPort = fakeChain();
    // the worker's own epochMs (5 s) is not the applet's: the vault pays only its 10 s epochs from 20 s on
    const w = new EpochWorker({
      store,
      workerStore: store.worker,
      run: sumRun,
      prove: okProve,
      chain: chainPort,
      epochMs: 5_000,
      graceMs: 0,
      now: () => 45_000,
    });
    await w.addApplet({ ...applet, schedule: { lengthMs: 10_000, genesisMs: 20_000 } }, 0);
    await drain(w);
    expect((await w.workerStore.listClaims()).map((c) => c.epoch)).toEqual([
      packEpoch({ startMs: 20_000n, lengthMs: 10_000n }).toString(),
    ]);
    expect((await w.workerStore.runCounts()).runs).toBe(1); // 10–20 s is before genesis; 30–40 s waits for the chain to pass 40 s
    store.close();
  });

  it("a retired applet (issue 22) closes only the epochs that start before its retirement", async () => {
    const { store } = await setup([
      [1_000, 1, true],
      [12_000, 2, true],
      [22_000, 3, true],
      [32_000, 4, true],
      [42_000, 5, true],
    ]);
    const w = new EpochWorker({
      store,
      workerStore: store.worker,
      run: sumRun,
      prove: okProve,
      chain: fakeChain(),
      epochMs: 10_000,
      graceMs: 0,
      now: () => 45_000,
    });
    await w.addApplet({ ...applet, schedule: { lengthMs: 10_000, genesisMs: 0 } }, 0);
    // a newer version runs the epochs from 20 s on: this one still closes 0–10 s and 10–20 s, then stops
    expect(await store.worker.retireApplet(applet.imageId, 20_000)).toBe(true);
    await drain(w);
    const starts = (await w.workerStore.listRuns(100)).map((r) => Number(BigInt(r.epoch) >> 32n)).sort((a, b) => a - b);
    expect(starts).toEqual([0, 10_000]);
    expect((await w.workerStore.listApplets())[0]!.cursorMs).toBe(20_000);
    store.close();
  });

  it("an epoch waiting for a chain read says so once (issue 18), and runs once the chain answers", async () => {
    const { store, deviceId } = await setup([
      [10_500, 3, true],
      [21_000, 1, true],
    ]);
    let down = true;
    const events: WorkerEvent[] = [];
    const w = new EpochWorker({
      store,
      workerStore: store.worker,
      run: sumRun,
      prove: okProve,
      // whether the applet is stateful is asked of PayoutVault.stateOf: the RPC endpoint refuses it for now
      chain: {
        ...fakeChain(),
        stateOf: async () => {
          if (down) throw new Error("connect ECONNREFUSED 127.0.0.1:8545");
          return { state: 0n, lastEpoch: 0n };
        },
      },
      epochMs: 10_000,
      graceMs: 0,
      now: () => 25_000,
      onEvent: (e) => events.push(e),
    });
    await w.addApplet({ ...applet, schedule: { lengthMs: 10_000, genesisMs: 0 } }, 10_000);
    await drain(w, 4);
    expect(await w.workerStore.listRuns(10)).toEqual([]);
    const waits = events.filter((e) => e.type === "chain-wait");
    expect(waits).toEqual([
      {
        type: "chain-wait",
        imageId: applet.imageId,
        epoch: packEpoch({ startMs: 10_000n, lengthMs: 10_000n }),
        deviceId,
        reason: expect.stringMatching(/cannot read PayoutVault\.stateOf.*the run waits for the next pass/),
      },
    ]);
    down = false;
    await drain(w, 2);
    expect((await w.workerStore.listRuns(10)).map((r) => BigInt(r.device_id))).toEqual([deviceId]);
    expect(events.filter((e) => e.type === "chain-wait")).toHaveLength(1);
    store.close();
  });

  it("a chain that cannot be reached holds proved claims back, attempts not counted, and pays them once it is back", async () => {
    const { store } = await setup([
      [10_500, 3, true],
      [21_000, 1, true],
    ]);
    const chainPort = fakeChain();
    let down = false;
    const unreachable = () => Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:8545"), { code: "ECONNREFUSED" });
    let sends = 0;
    const chain: ChainPort = {
      ...chainPort,
      isClaimed: async (...a) => {
        if (down) throw new Error("isClaimed failed: connect ECONNREFUSED", { cause: unreachable() });
        return chainPort.isClaimed(...a);
      },
      submit: async (c) => {
        sends++;
        return chainPort.submit(c);
      },
    };
    let now = 25_000;
    const events: WorkerEvent[] = [];
    const w = new EpochWorker({
      store,
      workerStore: store.worker,
      run: sumRun,
      prove: okProve,
      chain,
      epochMs: EPOCH,
      maxAttempts: 3,
      now: () => now,
      onEvent: (e) => events.push(e),
    });
    await w.addApplet(applet, 10_000);
    down = true;
    // an hour of RPC outage, a pass every 10 s: far more passes than maxAttempts
    for (let i = 0; i < 360; i++) {
      await w.tick();
      await w.idle();
      now += 10_000;
    }
    const [held] = await w.workerStore.listClaims();
    expect(held).toMatchObject({ state: "proved", attempts: 0 });
    expect(sends).toBe(0);
    // said when the chain went away, not every pass
    const said = events.filter((e) => e.type === "claim" && /cannot be reached/.test(e.detail ?? ""));
    expect(said.length).toBeGreaterThan(0);
    expect(said.length).toBeLessThan(10);
    down = false;
    await drain(w, 3);
    expect((await w.workerStore.listClaims())[0]!.state).toBe("paid");
    expect(chainPort.paid).toHaveLength(1);
    store.close();
  });

  it("an epoch waiting on one device's chain scans every device only every rescanMs, and a full scan completes it", async () => {
    const { store, deviceId } = await setup([[10_500, 3, true]]); // inside [10 000, 20 000), not yet past its end
    for (let i = 100; i < 150; i++) await registerDevice(store, BigInt(i)); // no readings: nothing to run
    let scans = 0;
    const counted = new Proxy(store, {
      get(target, p) {
        if (p === "listDevices")
          return (...a: Parameters<typeof store.listDevices>) => {
            scans++;
            return target.listDevices(...a);
          };
        const v = Reflect.get(target, p) as unknown;
        return typeof v === "function" ? v.bind(target) : v;
      },
    });
    const w = new EpochWorker({
      store: counted,
      workerStore: store.worker,
      run: sumRun,
      prove: okProve,
      chain: fakeChain(),
      epochMs: EPOCH,
      graceMs: 0,
      rescanMs: 3_600_000,
      now: () => 25_000,
    });
    await w.addApplet(applet, 10_000);
    await drain(w, 5);
    expect(await w.workerStore.listRuns(10)).toEqual([]);
    expect(scans).toBe(1); // the passes after the first looked only at the device the epoch waits for
    // the device's chain passes the epoch's end: the next pass runs it, and a scan of every device completes the epoch
    const sealed = chain(deviceId, [
      [10_500, 3, true],
      [21_000, 1, true],
    ]);
    expect((await store.appendReadings(deviceId, sealed.slice(1), 0)).ok).toBe(true);
    await drain(w, 2);
    expect((await w.workerStore.listRuns(10)).map((r) => BigInt(r.device_id))).toEqual([deviceId]);
    expect(scans).toBe(2);
    expect((await w.workerStore.listApplets())[0]!.cursorMs).toBe(20_000);
    store.close();
  });

  it("a device whose chain stops mid-epoch holds only its own later epochs, not every other device's", async () => {
    const { store, deviceId: stalled } = await setup([[12_000, 1, true]]); // inside [10 000, 20 000), then silent
    const busy = 43n;
    await registerDevice(store, busy);
    const busyChain = chain(busy, [
      [12_000, 2, true],
      [22_000, 3, true],
      [32_000, 4, true],
      [41_000, 5, true],
    ]);
    expect((await store.appendReadings(busy, busyChain, 0)).ok).toBe(true);
    const w = new EpochWorker({
      store,
      workerStore: store.worker,
      run: sumRun,
      prove: okProve,
      chain: fakeChain(),
      epochMs: EPOCH,
      graceMs: 0,
      rescanMs: 0,
      now: () => 45_000, // three epochs closable, none past the seal timeout (60 s)
    });
    await w.addApplet({ ...applet, schedule: { lengthMs: 10_000, genesisMs: 0 } }, 10_000);
    await drain(w, 3);
    const runsOf = async (d: bigint) =>
      (await w.workerStore.listRuns(100))
        .filter((r) => BigInt(r.device_id) === d)
        .sort((a, b) => a.id - b.id)
        .map((r) => Number(BigInt(r.epoch) >> 32n));
    // the busy device's three epochs ran; the stalled one's none; the cursor waits at the incomplete epoch
    expect(await runsOf(busy)).toEqual([10_000, 20_000, 30_000]);
    expect(await runsOf(stalled)).toEqual([]);
    expect((await w.workerStore.listApplets())[0]!.cursorMs).toBe(10_000);
    // its chain passes the epochs: they run in order (a stateful applet's state follows them), the cursor moves on
    const late = chain(stalled, [
      [12_000, 1, true],
      [22_000, 6, true],
      [32_000, 7, true],
      [41_000, 8, true],
    ]);
    expect((await store.appendReadings(stalled, late.slice(1), 0)).ok).toBe(true);
    await drain(w, 3);
    expect(await runsOf(stalled)).toEqual([10_000, 20_000, 30_000]);
    expect((await w.workerStore.listApplets())[0]!.cursorMs).toBe(40_000);
    store.close();
  });

  it("a device whose chain had not reached an epoch runs it before its later ones when its backlog comes", async () => {
    const { store, deviceId: offline } = await setup([[5_000, 1, true]]); // before [10 000, 20 000), then offline
    const waiting = 43n;
    await registerDevice(store, waiting);
    // a third device keeps the first epoch waiting (its chain stops inside it)
    expect((await store.appendReadings(waiting, chain(waiting, [[12_000, 2, true]]), 0)).ok).toBe(true);
    const w = new EpochWorker({
      store,
      workerStore: store.worker,
      run: sumRun,
      prove: okProve,
      chain: fakeChain(),
      epochMs: EPOCH,
      graceMs: 0,
      rescanMs: 0,
      now: () => 45_000,
    });
    await w.addApplet({ ...applet, schedule: { lengthMs: 10_000, genesisMs: 0 } }, 10_000);
    await drain(w, 2);
    // the offline device's backlog covers the first and second epochs and passes the third
    const backlog = chain(offline, [
      [5_000, 1, true],
      [15_000, 2, true],
      [25_000, 3, true],
      [35_000, 4, true],
      [41_000, 5, true],
    ]);
    expect((await store.appendReadings(offline, backlog.slice(1), 0)).ok).toBe(true);
    const runsOf = async () =>
      (await w.workerStore.listRuns(100))
        .filter((r) => BigInt(r.device_id) === offline)
        .sort((a, b) => a.id - b.id)
        .map((r) => Number(BigInt(r.epoch) >> 32n));
    // the device was behind at the last scan of every device: the next such scan (rescanMs 0, but at least ten times
    // the last scan's duration, which a loaded machine stretches) finds its backlog
    for (let i = 0; i < 100 && (await runsOf()).length < 3; i++) {
      await drain(w, 1);
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(await runsOf()).toEqual([10_000, 20_000, 30_000]);
    store.close();
  });

  it("an operator wallet that cannot pay for gas holds claims back without failing them, and says to fund it", async () => {
    const { store } = await setup([
      [10_500, 3, true],
      [21_000, 1, true],
    ]);
    const chainPort = fakeChain();
    let broke = true;
    const chain: ChainPort = {
      ...chainPort,
      submit: async (c) => {
        if (broke)
          throw new Error("claim failed: insufficient funds for gas * price + value", {
            cause: Object.assign(new Error("insufficient funds for intrinsic transaction cost"), {
              code: "INSUFFICIENT_FUNDS",
            }),
          });
        return chainPort.submit(c);
      },
    };
    let now = 25_000;
    const events: WorkerEvent[] = [];
    const w = new EpochWorker({
      store,
      workerStore: store.worker,
      run: sumRun,
      prove: okProve,
      chain,
      epochMs: EPOCH,
      maxAttempts: 2,
      now: () => now,
      onEvent: (e) => events.push(e),
    });
    await w.addApplet(applet, 10_000);
    for (let i = 0; i < 20; i++) {
      await w.tick();
      await w.idle();
      now += 10_000;
    }
    expect((await w.workerStore.listClaims())[0]).toMatchObject({ state: "proved", attempts: 0 });
    expect(events.filter((e) => e.type === "claim" && /fund it/.test(e.detail ?? ""))).toHaveLength(1);
    broke = false;
    await drain(w, 3);
    expect((await w.workerStore.listClaims())[0]!.state).toBe("paid");
    store.close();
  });

  it("waitReason: waits for what is not the claim's fault, counts what is an answer", () => {
    const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:8545"), { code: "ECONNREFUSED" });
    const revert = Object.assign(new Error("execution reverted"), { code: "CALL_EXCEPTION", data: "0x12345678" });
    const http = (status: string) =>
      Object.assign(new Error(`server response ${status}`), { code: "SERVER_ERROR", info: { responseStatus: status } });
    expect(waitReason(refused)).toMatch(/cannot be reached/);
    expect(waitReason(new ChainReadError("PayoutVault.stateOf", { cause: refused }))).toMatch(/cannot be reached/);
    // a read wrapped as ChainReadError over a revert (a wrong vault address) is an answer: it counts
    expect(waitReason(new ChainReadError("PayoutVault.stateOf", { cause: revert }))).toBeUndefined();
    expect(waitReason(revert)).toBeUndefined();
    expect(waitReason(http("503 Service Unavailable"))).toMatch(/cannot be reached/);
    expect(waitReason(http("429 Too Many Requests"))).toMatch(/cannot be reached/);
    expect(waitReason(http("400 Bad Request"))).toBeUndefined();
    expect(waitReason(new Error("x", { cause: { code: "NONCE_EXPIRED" } }))).toMatch(/nonce race/);
    expect(waitReason(new ProofRefusedError("too many readings"))).toBeUndefined();
  });

  it("waits for a signed reading after the epoch before proving", async () => {
    const { store } = await setup([
      [10_500, 3, true],
      [21_000, 1, false],
    ]);
    const w = new EpochWorker({
      store,
      workerStore: store.worker,
      run: sumRun,
      prove: okProve,
      chain: fakeChain(),
      epochMs: EPOCH,
      now: () => 25_000,
    });
    await w.addApplet(applet, 10_000);
    await drain(w);
    // Counted (and so bounded by maxAttempts), retried after a backoff.
    expect((await w.workerStore.listClaims())[0]).toMatchObject({
      state: "pending",
      attempts: 1,
      error: expect.stringMatching(/waiting for a signed reading/),
    });
    store.close();
  });

  it("a trapped run stores the trap, makes no claim and keeps the state", async () => {
    const { store, deviceId } = await setup([
      [10_500, 3, true],
      [21_000, 1, true],
    ]);
    const trapRun: RunPort = async ({ state }) => ({
      inputDigest: "i",
      journal: new Uint8Array(),
      journalDigest: "j",
      fuelUsed: 5n,
      stateRoot: "s0",
      state: state ?? new Uint8Array(),
      trap: { kind: "OutOfFuel", message: "fuel exhausted" },
      claims: [{ deviceId, output: 9n }],
    });
    const w = new EpochWorker({
      store,
      workerStore: store.worker,
      run: trapRun,
      prove: okProve,
      chain: fakeChain(),
      epochMs: EPOCH,
      now: () => 25_000,
    });
    await w.addApplet(applet, 10_000);
    await drain(w);
    expect(await w.workerStore.listClaims()).toHaveLength(0);
    expect((await w.workerStore.listRuns())[0]!.trap).toMatch(/OutOfFuel/);
    expect(await w.workerStore.getState(applet.imageId, deviceId)).toBeUndefined();
    store.close();
  });

  it("after a crash between sending and recording, pays exactly once", async () => {
    const { store } = await setup([
      [10_500, 3, true],
      [21_000, 1, true],
    ]);
    const chainPort = fakeChain();
    chainPort.dropNext = true; // first transaction vanishes (process killed before it was mined)
    const w = new EpochWorker({
      store,
      workerStore: store.worker,
      run: sumRun,
      prove: okProve,
      chain: chainPort,
      epochMs: EPOCH,
      now: () => 25_000,
    });
    await w.addApplet(applet, 10_000);
    await drain(w, 2);
    expect((await w.workerStore.listClaims())[0]).toMatchObject({ state: "proved", tx_hash: "0x1" }); // sent, never mined
    expect(chainPort.paid).toHaveLength(0);
    // A fresh worker over the same database (the restart) settles it.
    const w2 = new EpochWorker({
      store,
      workerStore: store.worker,
      run: sumRun,
      prove: okProve,
      chain: chainPort,
      epochMs: EPOCH,
      now: () => 99_000,
    });
    await drain(w2);
    expect((await w2.workerStore.listClaims()).at(-1)!.state).toBe("paid");
    expect(chainPort.paid).toHaveLength(1);
    store.close();
  });

  it("a submission pass that fails (chain gone while settling) is reported and retried, never an unhandled rejection", async () => {
    const { store } = await setup([
      [10_500, 3, true],
      [21_000, 1, true],
    ]);
    const chainPort = fakeChain();
    chainPort.dropNext = true;
    const w = new EpochWorker({
      store,
      workerStore: store.worker,
      run: sumRun,
      prove: okProve,
      chain: chainPort,
      epochMs: EPOCH,
      now: () => 25_000,
    });
    await w.addApplet(applet, 10_000);
    await drain(w, 2);
    const claim = (await w.workerStore.listClaims())[0]!;
    await w.workerStore.markSubmitted(claim.id, "0x1", 25_000); // as if the process died right after recording the send
    // The restart finds the transaction reverted, then cannot ask the vault whether it was paid: the chain is gone.
    const down: ChainPort = {
      ...chainPort,
      waitPaid: async () => ({ status: "reverted", error: "claim transaction 0x1 reverted" }),
      isClaimed: async () => {
        throw new Error("connect ECONNREFUSED 127.0.0.1:8545");
      },
    };
    const events: WorkerEvent[] = [];
    const w2 = new EpochWorker({
      store,
      workerStore: store.worker,
      run: sumRun,
      prove: okProve,
      chain: down,
      epochMs: EPOCH,
      now: () => 99_000,
      onEvent: (e) => events.push(e),
    });
    await drain(w2, 2); // vitest fails the run on an unhandled rejection
    expect(
      events.some(
        (e) =>
          e.type === "claim" &&
          /the chain \(or the database\) cannot be reached \(connect ECONNREFUSED.*\): submissions wait/.test(
            e.detail ?? "",
          ),
      ),
    ).toBe(true);
    expect((await w2.workerStore.listClaims())[0]!.state).toBe("submitted"); // left for a later pass, nothing lost
    let now = 199_000;
    const w3 = new EpochWorker({
      store,
      workerStore: store.worker,
      run: sumRun,
      prove: okProve,
      chain: chainPort,
      epochMs: EPOCH,
      now: () => now,
    });
    await drain(w3, 1); // 0x1 was never mined: back to proved, sent again after the backoff
    now += 600_000;
    await drain(w3);
    expect((await w3.workerStore.listClaims())[0]!.state).toBe("paid");
    expect(chainPort.paid).toHaveLength(1);
    store.close();
  });

  it("replaying a run the database does not hold is a ReplayError that says how to list runs", async () => {
    const { store } = await setup([[10_500, 3, true]]);
    const err = await replayRun({ runId: 999, worker: store.worker, store }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ReplayError);
    expect((err as ReplayError).shortMessage).toMatch(/no run 999 .*mfi status/);
    await store.close();
  });

  it("a send the vault refuses as already claimed (AlreadyClaimedError) is recorded as paid, not retried", async () => {
    const { store } = await setup([
      [10_500, 3, true],
      [21_000, 1, true],
    ]);
    const chain = fakeChain();
    let sends = 0;
    chain.submit = async (c) => {
      sends++;
      throw new AlreadyClaimedError(c);
    };
    const w = new EpochWorker({
      store,
      workerStore: store.worker,
      run: sumRun,
      prove: okProve,
      chain,
      epochMs: EPOCH,
      now: () => 25_000,
    });
    await w.addApplet(applet, 10_000);
    await drain(w);
    expect((await w.workerStore.listClaims())[0]).toMatchObject({ state: "paid", error: "nullifier already spent" });
    expect(sends).toBe(1);
    store.close();
  });

  it("a claim the prover refuses (not retryable) fails; a flaky prover is retried", async () => {
    const { store } = await setup([
      [10_500, 3, true],
      [21_000, 1, true],
    ]);
    const refuse: ProvePort = async () => {
      throw new ProofRefusedError("circuit output 3 differs from the applet's claim");
    };
    const w = new EpochWorker({
      store,
      workerStore: store.worker,
      run: sumRun,
      prove: refuse,
      chain: fakeChain(),
      epochMs: EPOCH,
      now: () => 25_000,
    });
    await w.addApplet(applet, 10_000);
    await drain(w);
    expect((await w.workerStore.listClaims())[0]).toMatchObject({
      state: "failed",
      error: expect.stringMatching(/differs/),
    });

    const { store: s2 } = await setup([
      [10_500, 3, true],
      [21_000, 1, true],
    ]);
    let calls = 0;
    const flaky: ProvePort = async (a) => {
      if (++calls === 1) throw new Error("worker thread died");
      return okProve(a);
    };
    let now = 25_000;
    const w2 = new EpochWorker({
      store: s2,
      workerStore: s2.worker,
      run: sumRun,
      prove: flaky,
      chain: fakeChain(),
      epochMs: EPOCH,
      now: () => now,
    });
    await w2.addApplet(applet, 10_000);
    await drain(w2, 2);
    expect((await w2.workerStore.listClaims())[0]).toMatchObject({ state: "pending", attempts: 1 });
    now += 60_000;
    await drain(w2);
    expect((await w2.workerStore.listClaims()).at(-1)!.state).toBe("paid");
    store.close();
    s2.close();
  });

  it("claims that can never be proved do not stall the others: 12 backlog devices signed too rarely, 1 normal one is paid", async () => {
    const store = openStore(join(mkdtempSync(join(tmpdir(), "mfi-worker-")), "db.sqlite"));
    const register = (deviceId: bigint) => registerDevice(store, deviceId, { x: 1n, y: deviceId });
    // An offline backlog uploaded as one batch signed only at its end: 6 unsigned readings after the epoch (> maxTrailing 5).
    const backlog: [number, number, boolean][] = [
      [10_500, 3, false],
      ...Array.from({ length: 6 }, (_, i) => [21_000 + i, 1, false] as [number, number, boolean]),
      [30_000, 1, true],
    ];
    for (let d = 1n; d <= 12n; d++) {
      await register(d);
      expect((await store.appendReadings(d, chain(d, backlog), 0)).ok).toBe(true);
    }
    await register(100n);
    expect(
      (
        await store.appendReadings(
          100n,
          chain(100n, [
            [10_500, 3, true],
            [21_000, 1, true],
          ]),
          0,
        )
      ).ok,
    ).toBe(true);
    const chainPort = fakeChain();
    let now = 31_000;
    const w = new EpochWorker({
      store,
      workerStore: store.worker,
      run: sumRun,
      prove: okProve,
      chain: chainPort,
      epochMs: EPOCH,
      maxTrailing: 5,
      now: () => now,
    });
    await w.addApplet(applet, 10_000);
    for (let i = 0; i < 30; i++, now += 1000) {
      await w.tick();
      await w.idle();
    }
    const first = packEpoch({ startMs: 10_000n, lengthMs: 10_000n }).toString();
    const claims = (await w.workerStore.listClaims()).filter((c) => c.epoch === first); // the backlog's next epoch is provable (and paid)
    expect(claims).toHaveLength(13);
    expect(claims.find((c) => c.device_id === "100")).toMatchObject({ state: "paid" });
    for (const c of claims.filter((c) => c.device_id !== "100"))
      expect(c).toMatchObject({
        state: "failed",
        error: expect.stringMatching(/not provable: no signed reading within 5 readings/),
      });
    store.close();
  });

  it("one failed database call while a proof starts (SQLITE_BUSY) does not crash the worker; the claim is paid later", async () => {
    const { store } = await setup([
      [10_500, 3, true],
      [21_000, 1, true],
    ]);
    const getDevice = store.getDevice.bind(store);
    let busy = 1;
    store.getDevice = async (id) => {
      if (busy-- > 0) throw Object.assign(new Error("database is locked"), { code: "SQLITE_BUSY" });
      return getDevice(id);
    };
    const events: WorkerEvent[] = [];
    let now = 25_000;
    const w = new EpochWorker({
      store,
      workerStore: store.worker,
      run: sumRun,
      prove: okProve,
      chain: fakeChain(),
      epochMs: EPOCH,
      now: () => now,
      onEvent: (e) => events.push(e),
    });
    await w.addApplet(applet, 10_000);
    await drain(w, 2); // vitest fails the run on an unhandled rejection
    expect((await w.workerStore.listClaims())[0]).toMatchObject({
      state: "pending",
      attempts: 1,
      error: expect.stringMatching(/database is locked/),
    });
    expect(events.some((e) => e.type === "claim" && /retry 1: database is locked/.test(e.detail ?? ""))).toBe(true);
    now += 60_000;
    await drain(w);
    expect((await w.workerStore.listClaims())[0]!.state).toBe("paid");
    store.close();
  });

  it("a run job delivered again after its run was stored (runner killed before completing it) is done: the applet is not run again, the chain not asked", async () => {
    const { store, deviceId } = await setup([
      [10_500, 3, true],
      [21_000, 1, true],
    ]);
    let runs = 0;
    const w = new EpochWorker({
      store,
      workerStore: store.worker,
      run: async (a) => {
        runs++;
        return sumRun(a);
      },
      prove: okProve,
      chain: fakeChain(),
      epochMs: EPOCH,
      now: () => 25_000,
    });
    await w.addApplet(applet, 10_000);
    const win = { startMs: 10_000n, lengthMs: 10_000n };
    expect((await w.runDevice(applet, win, deviceId)).kind).toBe("ran");
    // The redelivery returns before reading the readings (failing here), hence before the chain reads that follow them.
    const fail = async () => {
      throw new Error("not to be read");
    };
    store.lastReading = fail;
    store.listReadings = fail;
    expect(await w.runDevice(applet, win, deviceId)).toEqual({ kind: "done" });
    expect(runs).toBe(1);
    expect(await w.workerStore.runCounts()).toEqual({ runs: 1, trapped: 0 });
    store.close();
  });
});
