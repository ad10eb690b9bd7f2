/**
 * The worker's roles as real processes on one embedded Postgres and a real anvil (issue 23): two schedulers (one
 * active by leader lock), two runners, two provers, one submitter. A prover is SIGKILLed as it starts its first claim,
 * a runner as it takes its first run job and the active scheduler as it enqueues its first run jobs: the other prover
 * finishes that claim (its job comes back after the visibility timeout), the other runner does the runs, the standby
 * scheduler takes over, each (applet, device, epoch) is run once and every claim is paid exactly once on chain.
 * In process, on the same Postgres: a runner stuck mid-job (as a killed one) loses its job to another runner after
 * the visibility timeout, and its own run, finishing late, stores nothing: one run per device-epoch.
 * Mock proofs (`--mock-proofs`: every constraint of the claim's circuit witness checked, only the Groth16 step
 * skipped) keep this test at tens of seconds; the queue does not know which kind of proof a prover makes.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import type { Devnet } from "../cli/devnet/devnet.ts";
import { packEpoch } from "../device-sdk/index.ts";
import type { ClaimRow } from "../store/index.ts";
import { openPostgresStore, type PgStore } from "../store/postgres/open.ts";
import { startTestPostgres, type TestPostgres } from "../store/postgres/testing.ts";
import { PgBossRunQueue, runJobKey, type ProveQueue, type RunJob } from "../worker/queue/index.ts";
import { runRunner, serveRole, type RoleEvent, type RoleName } from "../worker/roles/index.ts";
import { runtimeRunPort } from "../worker/runtime-port.ts";
import type { RunPort } from "../worker/ports.ts";
import { mfiBin, startHistoricalDevnet, waitFor } from "./helpers.ts";

const EPOCH = 10_000;
const DEVICES = 3;
let net: Devnet;
let pg: TestPostgres;
let db: string;
let store: PgStore;
const children: ChildProcess[] = [];
const procs: Proc[] = [];
/** What each role process said, for a failure's message. */
const said = () =>
  procs
    .map((p) => {
      const ev = p.events.map((e) => JSON.stringify(e)).slice(-15);
      return `--- ${p.role} ${p.child.pid} (exit ${p.child.exitCode ?? p.child.signalCode})\n${ev.join("\n")}\n${p.stderr}`;
    })
    .join("\n");

interface Proc {
  child: ChildProcess;
  events: Record<string, unknown>[];
  exited: Promise<void>;
  role: string;
  stderr: string;
}

function startRole(role: string, args: string[], onEvent: (e: Record<string, unknown>, p: Proc) => void = () => {}) {
  const child = spawn(process.execPath, [mfiBin, "worker", role, "--db", db, ...args], {
    env: { ...process.env, MFI_PRIVATE_KEY: net.keys[1], MFI_RPC_URL: "", MFI_WORKER_DB: "" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  const p: Proc = {
    child,
    events: [],
    exited: new Promise((r) => child.once("exit", () => r())),
    role,
    stderr: "",
  };
  procs.push(p);
  let buf = "";
  child.stderr!.on("data", (d: Buffer) => (p.stderr = (p.stderr + d.toString()).slice(-2000)));
  child.stdout!.on("data", (d: Buffer) => {
    buf += d.toString();
    let i: number;
    while ((i = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      try {
        const e = JSON.parse(line) as Record<string, unknown>;
        p.events.push(e);
        onEvent(e, p);
      } catch {
        /* not an event line */
      }
    }
  });
  return p;
}

beforeAll(async () => {
  pg = await startTestPostgres();
  db = await pg.createDatabase();
  const h = await startHistoricalDevnet({
    epochMs: EPOCH,
    devices: DEVICES,
    owner: () => 0,
    applets: ["energy-sum"],
    mockProofs: true,
  });
  net = h.net;
  for (const [d, { client }] of h.devices.entries()) {
    const inputs = [0, 3000, 6000, EPOCH + 1000, EPOCH + 4000].map((t, j) => ({
      ts: h.base + t,
      values: [BigInt(10 + j + d)],
    }));
    await client.sendBatch(inputs);
    await client.sendBatch([{ ts: h.base + 2 * EPOCH + 500, values: [1n] }]);
  }
  // The devnet's gateway stored devices and readings in its SQLite file; the roles share Postgres: copy them over
  // (the applets too, in the test, once both schedulers are up).
  store = await openPostgresStore(db);
  await copyReadings(store);
}, 600_000);

async function copyReadings(to: PgStore) {
  for (const device of await net.store.listDevices({ limit: 100 })) {
    await to.insertDevice(device);
    const readings = await net.store.listReadings({ deviceId: device.deviceId, fromSeq: 1n, limit: 1000 });
    const r = await to.appendReadings(device.deviceId, readings, Date.now());
    expect(r).toMatchObject({ ok: true });
  }
}

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  await store?.close();
  await net?.stop();
  await pg?.stop();
}, 60_000);

describe("worker roles on Postgres", () => {
  it("a prover, a runner and the scheduler killed mid-work: the others finish, each run stored once, each claim paid once", async () => {
    const queueArgs = ["--job-timeout-s", "10", "--maintenance-s", "1", "--retry-limit", "5"];
    // The scheduler and runners read keys and applet states on chain (nothing sent: no key).
    const reads = ["--rpc", net.rpcUrl, "--manifest", join(net.dir, "deployments", `${net.chainId}.json`)];
    const runArgs = [...queueArgs, "--run-timeout-s", "5", ...reads];
    const schedArgs = ["--epoch-ms", String(EPOCH), "--grace-ms", "0", ...runArgs];
    let killedScheduler: number | undefined;
    const onScheduler = (e: Record<string, unknown>, p: Proc) => {
      if (e.type === "runs-queued" && killedScheduler === undefined) {
        killedScheduler = p.child.pid;
        p.child.kill("SIGKILL");
      }
    };
    const s1 = startRole("scheduler", schedArgs, onScheduler);
    await waitFor(() => s1.events.some((e) => e.type === "leader" && e.state === "active"), 60_000);
    const s2 = startRole("scheduler", schedArgs, onScheduler);
    await waitFor(() => s2.events.some((e) => e.type === "leader" && e.state === "standby"), 60_000);
    expect(s2.events.some((e) => e.type === "leader" && e.state === "active")).toBe(false);
    // The applets registered on chain, with their epoch cursors: the active scheduler starts running them.
    for (const { spec, cursorMs } of await net.store.worker.listApplets())
      await store.worker.upsertApplet(spec, cursorMs, Date.now());

    let victim: { pid: number | undefined; claimId: unknown } | undefined;
    const onProver = (e: Record<string, unknown>, p: Proc) => {
      if (e.type === "job" && !victim) {
        victim = { pid: p.child.pid, claimId: e.claimId };
        p.child.kill("SIGKILL");
      }
    };
    let killedRunner: Proc | undefined;
    const onRunner = (e: Record<string, unknown>, p: Proc) => {
      if (e.type === "run-job" && !killedRunner) {
        killedRunner = p;
        p.child.kill("SIGKILL");
      }
    };
    const r1 = startRole("runner", runArgs, onRunner);
    const r2 = startRole("runner", runArgs, onRunner);
    const p1 = startRole("prover", ["--mock-proofs", ...queueArgs], onProver);
    const p2 = startRole("prover", ["--mock-proofs", ...queueArgs], onProver);
    const sub = startRole("submitter", [
      "--rpc",
      net.rpcUrl,
      "--manifest",
      join(net.dir, "deployments", `${net.chainId}.json`),
    ]);

    // 3 devices × epochs 0 and 1 are payable.
    await waitFor(async () => (await store.worker.claimCounts()).paid >= 2 * DEVICES, 400_000, 250).catch(
      async (err: Error) => {
        const counts = JSON.stringify({
          runs: await store.worker.runCounts(),
          claims: await store.worker.claimCounts(),
        });
        throw new Error(`${err.message}: ${counts}\n${said()}`);
      },
    );

    // The scheduler that enqueued the first runs was killed, the standby took over; the runners did every run.
    expect(killedScheduler).toBe(s1.child.pid);
    expect(s2.events.some((e) => e.type === "leader" && e.state === "active")).toBe(true);
    expect([...s1.events, ...s2.events].some((e) => e.type === "run")).toBe(false);
    const otherRunner = killedRunner === r1 ? r2 : r1;
    const runKeys = [...r1.events, ...r2.events]
      .filter((e) => e.type === "run")
      .map((e) => `${e.imageId}/${e.deviceId}/${e.epoch}`);
    expect(runKeys.length).toBeGreaterThanOrEqual(2 * DEVICES - 1);
    expect(new Set(runKeys).size).toBe(runKeys.length); // no device-epoch run twice
    expect(otherRunner.events.some((e) => e.type === "run")).toBe(true);
    expect((await store.worker.runCounts()).runs).toBe(2 * DEVICES);
    // The killed prover's claim was proved by the other one.
    const survivor = victim!.pid === p1.child.pid ? p2 : p1;
    expect(survivor.events.some((e) => e.type === "job" && e.claimId === victim!.claimId)).toBe(true);
    expect(
      survivor.events.some((e) => e.type === "claim" && e.state === "proved" && e.claimId === victim!.claimId),
    ).toBe(true);

    const claims = await store.worker.listClaims(100);
    expect(claims).toHaveLength(2 * DEVICES);
    expect(claims.every((c) => c.state === "paid")).toBe(true);
    const events = await net.admin.contracts.vault.queryFilter("ClaimPaid", net.manifest.block);
    const keys = events.map((ev) => {
      const a = (ev as unknown as { args: unknown[] }).args;
      return `${a[0]}/${a[1]}/${a[2]}`;
    });
    expect(new Set(keys).size).toBe(keys.length); // never twice
    expect(keys.length).toBe(2 * DEVICES);

    for (const p of [s2, otherRunner, survivor, sub]) p.child.kill("SIGTERM");
    await Promise.all([s2.exited, otherRunner.exited, survivor.exited, sub.exited]);
  }, 600_000);

  it("a runner stuck mid-job (as a killed one) loses it to another after the visibility timeout; one run per device-epoch", async () => {
    const url = await pg.createDatabase();
    const s = await openPostgresStore(url);
    const queues: PgBossRunQueue[] = [];
    try {
      await copyReadings(s);
      const [{ spec, cursorMs }] = await net.store.worker.listApplets();
      await s.worker.upsertApplet(spec!, cursorMs!, Date.now());
      const epoch = packEpoch({ startMs: BigInt(cursorMs!), lengthMs: BigInt(spec!.schedule?.lengthMs ?? EPOCH) });
      const jobs: RunJob[] = (await s.listDevices({ limit: 10 })).map((d) => ({
        imageId: spec!.imageId,
        deviceId: d.deviceId.toString(),
        epoch: epoch.toString(),
      }));
      const opts = { url, expireInSeconds: 2, retryLimit: 3, retryDelaySeconds: 1, maintenanceIntervalSeconds: 1 };
      const open = async () => {
        const q = await PgBossRunQueue.open({ ...opts, pollingIntervalSeconds: 0.5 });
        queues.push(q);
        return q;
      };
      const proveJobs: ClaimRow[] = [];
      const proveQueue: ProveQueue = {
        kind: "test",
        enqueue: async (c) => void proveJobs.push(...c),
        work: async () => {},
        stop: async () => {},
      };
      const runner = async (name: string, run?: RunPort) => {
        const events: (RoleEvent & { by?: string })[] = [];
        const q = await open();
        const role = await runRunner({
          store: s,
          workerStore: s.worker,
          runQueue: q,
          proveQueue,
          concurrency: 2,
          onEvent: (e) => events.push(e),
          ...(run ? { run } : {}),
        });
        return { q, role, events, name };
      };

      // Runner a takes the first job and hangs in the applet's run.
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      let aTook = false;
      let aDone = false;
      const real = runtimeRunPort();
      const a = await runner("a", async (args) => {
        aTook = true;
        await gate;
        const out = await real(args);
        setTimeout(() => (aDone = true), 500); // its recordRun is next
        return out;
      });
      await a.q.enqueue(jobs.slice(0, 1));
      await waitFor(() => aTook, 30_000);
      await a.q.stop({ graceful: false }); // its job stays active, as a SIGKILLed runner's would

      // Two more runners; every job offered twice (two schedulers, or one restarted): one job per key.
      const b = await runner("b");
      const c = await runner("c");
      await b.q.enqueue(jobs);
      await c.q.enqueue(jobs);
      await waitFor(async () => (await s.worker.runCounts()).runs >= jobs.length, 60_000, 200);
      const ran = [...b.events, ...c.events].filter((e) => e.type === "run");
      expect(ran.map((e) => e.type === "run" && `${e.deviceId}`).sort()).toEqual(jobs.map((j) => j.deviceId).sort());
      const taken = [...b.events, ...c.events].filter((e) => e.type === "run-job");
      expect(taken.some((e) => e.type === "run-job" && runJobKey(e) === runJobKey(jobs[0]!))).toBe(true);

      // Runner a's run finishes late: the store keeps the first run, a stores nothing.
      release();
      await waitFor(() => aDone, 30_000);
      await new Promise((r) => setTimeout(r, 500));
      expect(a.events.filter((e) => e.type === "run")).toEqual([]);
      expect((await s.worker.runCounts()).runs).toBe(jobs.length);
      const claims = await s.worker.listClaims(100);
      expect(claims.length).toBe(jobs.length);
      // The runners enqueued the claims' prove jobs.
      expect(new Set(proveJobs.map((c) => c.id))).toEqual(new Set(claims.map((c) => c.id)));
      await b.role.stop();
      await c.role.stop();
    } finally {
      for (const q of queues) await q.stop().catch(() => {});
      await s.close();
    }
  }, 180_000);

  it("roles started at once on a fresh database all start: the first start's DDL is done under one lock", async () => {
    const url = await pg.createDatabase();
    const roles: RoleName[] = ["scheduler", "runner", "runner", "prover", "prover", "scheduler"];
    const started = await Promise.allSettled(
      roles.map((role) =>
        serveRole({ role, dbUrl: url, proofs: "mock", epochMs: EPOCH, queue: { maintenanceIntervalSeconds: 60 } }),
      ),
    );
    const failed = started
      .filter((r) => r.status === "rejected")
      .map((r) => String((r as PromiseRejectedResult).reason));
    for (const r of started) if (r.status === "fulfilled") await r.value.stop();
    expect(failed).toEqual([]);
  }, 120_000);
});
