/**
 * Two `mfi gateway start --db postgres://…` processes on one real Postgres database (issue 23): devices register
 * through either, then post through both in random order while forks and identical retries race for every seq.
 * Each round exactly one reading is stored for the seq (201 once; identical retries 200 with the same ack; forks
 * 409), every acknowledged reading is in the database, and every device's chain is intact with nothing stored twice.
 * Requests come from many loopback addresses (127.0.0.x), as many devices would: the per-address failure budget of
 * each gateway then charges the forks to their own senders, as in production. `mfi worker start --db postgres://…`
 * starts on the same kind of database. A Postgres restart during ingest: the gateways answer 503 (store-unavailable)
 * while it is down and recover on their own; nothing acknowledged is lost.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeReading, getDefaultBackend, type EddsaBackend, type SignedReading } from "../device-sdk/index.ts";
import { makeChain, registrationBody, testKey } from "../gateway/testing.ts";
import { openStoreAsync, type StoreSet } from "../store/index.ts";
import { startTestPostgres, type TestPostgres } from "../store/postgres/testing.ts";
import { mfi, mfiBin } from "./helpers.ts";
import { postFrom, startPgGateway } from "./pg-gateways.ts";

const children: ChildProcess[] = [];
let pg: TestPostgres | undefined;
afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  await pg?.stop();
}, 60_000);
beforeAll(async () => {
  pg = await startTestPostgres();
}, 120_000);

const startGateway = (db: string) => startPgGateway(db, children);
const post = postFrom;

const sender = () => `127.0.0.${2 + Math.floor(Math.random() * 240)}`;
const pick = <T>(xs: readonly T[]) => xs[Math.floor(Math.random() * xs.length)]!;
const shuffle = <T>(xs: T[]) => xs.sort(() => Math.random() - 0.5);

describe("two gateway processes on one Postgres database", () => {
  it("forks and retries racing through both: one reading per seq, every ack stored, every chain intact", async () => {
    const db = await pg!.createDatabase();
    const gateways = await Promise.all([startGateway(db), startGateway(db)]);
    const urls = gateways.map((g) => g.url);
    const backend: EddsaBackend = await getDefaultBackend();
    const store: StoreSet = await openStoreAsync(db);
    try {
      const DEVICES = 6;
      const ROUNDS = 12;
      const keys = Array.from({ length: DEVICES }, (_, i) => testKey(backend, 500 + i));
      for (const k of keys) {
        const r = await post(`${pick(urls)}/v1/devices`, registrationBody(backend, k), sender());
        expect(r.status).toBe(201);
      }
      // Registered through one gateway, known to the other at once (the database is the only state).
      for (const k of keys) expect((await store.getDevice(k.deviceId))?.owner).toBeDefined();

      const acked = new Map<string, string>(); // `${device}:${seq}` → hash acknowledged by some gateway
      const statuses: Record<number, number> = {};
      await Promise.all(
        keys.map(async (key, d) => {
          let state: ReturnType<typeof makeChain>["state"] | undefined;
          for (let round = 0; round < ROUNDS; round++) {
            const honest = makeChain(backend, key, round % 3 === 2 ? 3 : 1, { state, values: (i) => [round, i, d] });
            const fork = makeChain(backend, key, 1, { state, values: () => [round, 999, d] });
            const path = `/v1/devices/${key.deviceId}/readings${honest.wire.length > 1 ? "/batch" : ""}`;
            const honestBody = honest.wire.length > 1 ? { readings: honest.wire } : honest.wire[0];
            const attempts = shuffle([
              { which: "honest", url: urls[0]!, path, body: honestBody },
              { which: "honest", url: urls[1]!, path, body: honestBody },
              { which: "fork", url: pick(urls), path: `/v1/devices/${key.deviceId}/readings`, body: fork.wire[0] },
            ]);
            const res = await Promise.all(
              attempts.map(async (a) => ({ ...a, r: await post(`${a.url}${a.path}`, a.body, sender()) })),
            );
            for (const x of res) statuses[x.r.status] = (statuses[x.r.status] ?? 0) + 1;
            expect(
              res.filter((x) => x.r.status === 201),
              JSON.stringify(res.map((x) => x.r)),
            ).toHaveLength(1);
            const winner = res.find((x) => x.r.status === 201)!.which;
            for (const x of res) {
              if (x.which === winner) expect([200, 201]).toContain(x.r.status);
              else expect(x.r.status, JSON.stringify(x.r.body)).toBe(409);
            }
            // Identical retries of the winner were answered with the same ack(s).
            const acks = res.filter((x) => x.which === winner).map((x) => JSON.stringify(x.r.body));
            expect(new Set(acks).size).toBe(1);
            const won: SignedReading[] = winner === "honest" ? honest.readings : fork.readings;
            for (const r of won) acked.set(`${key.deviceId}:${r.seq}`, r.hash.toString());
            state = winner === "honest" ? honest.state : fork.state;
          }
        }),
      );
      // Per round 201 once, then 200 (the winner's retry) or 409 (a loser) for the other two.
      expect(statuses[201]).toBe(DEVICES * ROUNDS);
      expect((statuses[200] ?? 0) + statuses[409]!).toBe(2 * DEVICES * ROUNDS);
      expect(statuses[409]).toBeGreaterThanOrEqual(DEVICES * ROUNDS);

      let total = 0;
      for (const k of keys) {
        const rows = await store.listReadings({ deviceId: k.deviceId });
        total += rows.length;
        expect(rows[0]!.seq).toBe(1n);
        for (let i = 1; i < rows.length; i++) {
          expect(rows[i]!.seq).toBe(rows[i - 1]!.seq + 1n);
          expect(rows[i]!.prev).toBe(rows[i - 1]!.hash);
        }
        for (const r of rows) expect(acked.get(`${k.deviceId}:${r.seq}`)).toBe(r.hash.toString());
      }
      // Nothing acknowledged is missing, nothing is stored that was not acknowledged, nothing twice.
      expect(total).toBe(acked.size);
      expect(await store.countReadings()).toBe(acked.size);
    } finally {
      await store.close();
      for (const g of gateways) g.child.kill("SIGTERM");
      expect(await Promise.all(gateways.map((g) => g.exited))).toEqual([0, 0]);
    }
  }, 300_000);

  it("mfi worker start --db postgres://… runs on the gateways' database and stops cleanly", async () => {
    const db = await pg!.createDatabase();
    await (await openStoreAsync(db)).close(); // the gateway would have created it
    const dir = mkdtempSync(join(tmpdir(), "mfi-pg-worker-"));
    try {
      const a = "0x" + "11".repeat(20);
      const manifest = join(dir, "31337.json");
      writeFileSync(
        manifest,
        JSON.stringify({
          chainId: 31337,
          deployer: a,
          block: 0,
          deployedAt: "2024-01-01T00:00:00Z",
          sourceHash: "0",
          evmVersion: "cancun",
          contracts: { RewardToken: a, DeviceRegistry: a, AppletRegistry: a, PayoutVault: a, DataMarket: a },
          verifiers: {},
          reducers: {},
        }),
      );
      const child = spawn(
        process.execPath,
        [mfiBin, "worker", "start", "--db", db, "--rpc", "http://127.0.0.1:1", "--manifest", manifest],
        { env: { ...process.env, MFI_PRIVATE_KEY: "0x" + "ac".repeat(32) }, stdio: ["ignore", "pipe", "pipe"] },
      );
      children.push(child);
      const exit = new Promise<number | string | null>((r) => child.once("exit", (code, signal) => r(code ?? signal)));
      let err = "";
      child.stderr!.on("data", (b) => (err += b));
      const ready = await new Promise<{ type: string; pid: number }>((resolve, reject) => {
        let buf = "";
        child.stdout!.on("data", (d: Buffer) => {
          buf += d.toString();
          const line = buf.split("\n").find((l) => l.includes('"ready"'));
          if (line) resolve(JSON.parse(line));
        });
        child.once("exit", () => reject(new Error(`exited before ready: ${buf}\n${err}`)));
      });
      expect(ready).toMatchObject({ type: "ready", pid: child.pid });
      await new Promise((r) => setTimeout(r, 500));
      child.kill("SIGTERM");
      expect(await exit).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it("a Postgres restart during ingest: 503 while it is down, recovery without restarting the gateways, nothing acknowledged lost", async () => {
    const db = await pg!.createDatabase();
    const gateways = await Promise.all([startGateway(db), startGateway(db)]);
    const urls = gateways.map((g) => g.url);
    const backend = await getDefaultBackend();
    const keys = Array.from({ length: 4 }, (_, i) => testKey(backend, 700 + i));
    for (const k of keys)
      expect((await post(`${urls[0]}/v1/devices`, registrationBody(backend, k), sender())).status).toBe(201);
    const PER = 50;
    const chains = keys.map((k) => makeChain(backend, k, PER, { values: (i) => [i, 7] }));
    let acked = 0;
    const unavailable: string[] = [];
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    // Devices post one reading at a time through either gateway; a 503 is retried after a pause, as the SDK does.
    const posting = Promise.all(
      keys.map(async (k, d) => {
        for (const w of chains[d]!.wire) {
          for (;;) {
            const r = await post(`${pick(urls)}/v1/devices/${k.deviceId}/readings`, w, sender());
            if (r.status === 201 || r.status === 200) break;
            if (r.status !== 503) throw new Error(`unexpected ${r.status}: ${JSON.stringify(r.body)}`);
            unavailable.push(r.body.type as string);
            await sleep(100);
          }
          acked++;
          await sleep(5);
        }
      }),
    );
    const until = async (f: () => boolean | Promise<boolean>, what: string) => {
      for (const t0 = Date.now(); !(await f()); await sleep(50))
        if (Date.now() - t0 > 60_000) throw new Error(`timed out waiting for ${what}`);
    };
    await until(() => acked >= 40, "40 readings before the restart");
    await pg!.stopServer();
    try {
      await until(() => unavailable.length >= 2, "503s while Postgres is down");
      const ready = await fetch(`${urls[1]}/readyz`);
      expect(ready.status).toBe(503);
    } finally {
      await pg!.startServer();
    }
    await posting;
    // The store, or the shared rate limits (gateway/shared-rate-limit.ts) when they notice first: both 503, fail closed.
    for (const t of unavailable)
      expect(
        ["store-unavailable", "rate-limit-unavailable"].map((x) => `https://machinefi.dev/problems/${x}`),
      ).toContain(t);
    expect(acked).toBe(keys.length * PER);
    // The same processes served before and after, and every acknowledged reading is there, once, in chain order.
    expect(gateways.every((g) => g.child.exitCode === null && g.child.signalCode === null)).toBe(true);
    expect((await fetch(`${urls[0]}/readyz`)).status).toBe(200);
    // mfi status reads the same database.
    const status = await mfi(["status", "--db", db, "--json"]);
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ devices: keys.length, readings: keys.length * PER });
    const store = await openStoreAsync(db);
    try {
      for (const [d, k] of keys.entries()) {
        const rows = await store.listReadings({ deviceId: k.deviceId });
        expect(rows.map((r) => r.hash)).toEqual(chains[d]!.readings.map((r) => r.hash));
      }
    } finally {
      await store.close();
      for (const g of gateways) g.child.kill("SIGTERM");
      expect(await Promise.all(gateways.map((g) => g.exited))).toEqual([0, 0]);
    }
  }, 300_000);
});
