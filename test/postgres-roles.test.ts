/**
 * The worker's roles as real processes on one embedded Postgres and a real anvil (issue 23): two schedulers (one
 * active by leader lock), two provers, one submitter. A prover is SIGKILLed as it starts its first claim and the active
 * scheduler as it records its first run: the other prover finishes that claim (its job comes back after the
 * visibility timeout), the standby scheduler takes over, and every claim is paid exactly once on chain.
 * Mock proofs (`--mock-proofs`: every constraint of the claim's circuit witness checked, only the Groth16 step
 * skipped) keep this test at tens of seconds; the queue does not know which kind of proof a prover makes.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import type { Devnet } from "../cli/devnet/devnet.ts";
import { openPostgresStore, type PgStore } from "../store/postgres/open.ts";
import { startTestPostgres, type TestPostgres } from "../store/postgres/testing.ts";
import { mfiBin, startHistoricalDevnet, waitFor } from "./helpers.ts";

const EPOCH = 10_000;
const DEVICES = 3;
let net: Devnet;
let pg: TestPostgres;
let db: string;
let store: PgStore;
const children: ChildProcess[] = [];

interface Proc {
  child: ChildProcess;
  events: Record<string, unknown>[];
  exited: Promise<void>;
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
  };
  let buf = "";
  child.stderr!.on("data", () => {});
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
  for (const device of await net.store.listDevices({ limit: 100 })) {
    await store.insertDevice(device);
    const readings = await net.store.listReadings({ deviceId: device.deviceId, fromSeq: 1n, limit: 1000 });
    const r = await store.appendReadings(device.deviceId, readings, Date.now());
    expect(r).toMatchObject({ ok: true });
  }
}, 600_000);

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  await store?.close();
  await net?.stop();
  await pg?.stop();
}, 60_000);

describe("worker roles on Postgres", () => {
  it("a prover and the scheduler killed mid-work: another prover finishes, the standby takes over, each claim paid once", async () => {
    const queueArgs = ["--job-timeout-s", "10", "--maintenance-s", "1", "--retry-limit", "5"];
    const schedArgs = ["--epoch-ms", String(EPOCH), "--grace-ms", "0", ...queueArgs];
    let killedScheduler: number | undefined;
    const onScheduler = (e: Record<string, unknown>, p: Proc) => {
      if (e.type === "run" && killedScheduler === undefined) {
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
    const p1 = startRole("prover", ["--mock-proofs", ...queueArgs], onProver);
    const p2 = startRole("prover", ["--mock-proofs", ...queueArgs], onProver);
    const sub = startRole("submitter", [
      "--rpc",
      net.rpcUrl,
      "--manifest",
      join(net.dir, "deployments", `${net.chainId}.json`),
    ]);

    // 3 devices × epochs 0 and 1 are payable.
    await waitFor(async () => (await store.worker.claimCounts()).paid >= 2 * DEVICES, 400_000, 250);

    // The scheduler that recorded a run was killed, the standby took over.
    expect(killedScheduler).toBe(s1.child.pid);
    expect(s2.events.some((e) => e.type === "leader" && e.state === "active")).toBe(true);
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

    for (const p of [s2, survivor, sub]) p.child.kill("SIGTERM");
    await Promise.all([s2.exited, survivor.exited, sub.exited]);
  }, 600_000);
});
