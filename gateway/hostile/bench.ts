/**
 * `npm run bench -- ingest_attack` → build/bench/ingest_attack.json. The gateway runs as its own process (gateway/main.ts,
 * every defence at its default), so its CPU time is its own. An honest fleet posts pre-signed batches at a steady rate
 * for PHASE_MS alone, then for PHASE_MS again while gateway/hostile/traffic.ts attacks from other loopback addresses:
 *   ingest.under_attack.p99_ratio        honest p99 latency under attack ÷ honest p99 alone (goal ≤ 3)
 *   ingest.under_attack.honest_lost      honest readings not stored after the run (retries as the SDK does; goal 0)
 *   ingest.under_attack.attack_cpu_share gateway CPU beyond the honest-only phase's, as a share of its CPU under attack
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { Agent, request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import type { Bench, BenchResult } from "../../core/index.ts";
import { percentile } from "../../core/index.ts";
import { getDefaultBackend, type WireReading } from "../../device-sdk/index.ts";
import { openStore } from "../../store/index.ts";
import { makeChain, registrationBody, testKey } from "../testing.ts";
import { Worker } from "node:worker_threads";
import { answeredCount, type AttackReport } from "./traffic.ts";

const DEVICES = 8;
const PERIOD_MS = 40; // one batch of 4 per device every 40 ms: 200 requests/s, 800 readings/s in all
const PHASE_MS = 8_000;
const ROOT = join(import.meta.dirname, "..", "..");

async function startGateway(db: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ["--import", "./cli/register.mjs", "gateway/main.ts"], {
    cwd: ROOT,
    env: {
      ...process.env,
      MFI_GATEWAY_DB: db,
      MFI_GATEWAY_PORT: "0",
      MFI_GATEWAY_MAX_SKEW_MS: "off",
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
  return { child, url };
}

/** The child's user + system CPU time in ms (Linux /proc; the bench machine's). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime, stime in clock ticks (USER_HZ = 100)
}

const agent = new Agent({ keepAlive: true, maxSockets: 64, localAddress: "127.0.0.1" });
function post(url: URL, path: string, body: string): Promise<{ status: number; retryAfterS: number }> {
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
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, retryAfterS: Number(res.headers["retry-after"] ?? 0) }),
        );
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

/** Each device posts its next batch every PERIOD_MS for `ms`; retries 429/503 after Retry-After, as the SDK does. */
async function honestPhase(url: URL, streams: { id: bigint; batches: string[]; next: number }[], ms: number) {
  const latencies: number[] = [];
  let sent = 0;
  const until = Date.now() + ms;
  await Promise.all(
    streams.map(async (s) => {
      for (; Date.now() < until && s.next < s.batches.length; s.next++) {
        const t0 = performance.now();
        for (let attempt = 0; ; attempt++) {
          const r = await post(url, `/v1/devices/${s.id}/readings/batch`, s.batches[s.next]!);
          if (r.status === 201 || r.status === 200) break;
          if ((r.status !== 429 && r.status !== 503) || attempt >= 8)
            throw new Error(`honest batch refused: ${r.status}`);
          await new Promise((res) => setTimeout(res, Math.max(50, r.retryAfterS * 1000)));
        }
        latencies.push(performance.now() - t0);
        sent += 4;
        await new Promise((res) => setTimeout(res, Math.max(0, PERIOD_MS - (performance.now() - t0))));
      }
    }),
  );
  return { latencies, sent };
}

const bench: Bench = {
  name: "ingest_attack",
  async run(log) {
    const backend = await getDefaultBackend();
    const dir = mkdtempSync(join(tmpdir(), "mfi-bench-attack-"));
    const db = join(dir, "gw.sqlite");
    const gw = await startGateway(db);
    try {
      const url = new URL(gw.url);
      const perPhase = Math.ceil(PHASE_MS / PERIOD_MS) + 10;
      log(`signing ${DEVICES} × ${2 * perPhase} batches of 4…`);
      const keys = Array.from({ length: DEVICES }, (_, i) => testKey(backend, 4_000 + i));
      const streams = keys.map((k) => {
        const wire: WireReading[][] = [];
        let state;
        for (let b = 0; b < 2 * perPhase; b++) {
          const c = makeChain(backend, k, 4, { state, signMode: "last", ts0: 1_700_000_000_000 + b * 4_000 });
          wire.push(c.wire);
          state = c.state;
        }
        return { id: k.deviceId, batches: wire.map((w) => JSON.stringify({ readings: w })), next: 0 };
      });
      for (const k of keys) {
        const r = await post(url, "/v1/devices", JSON.stringify(registrationBody(backend, k)));
        if (r.status !== 201) throw new Error(`registration refused: ${r.status}`);
      }

      log(`honest fleet alone for ${PHASE_MS / 1000} s…`);
      let c0 = cpuMs(gw.child.pid!);
      const alone = await honestPhase(url, streams, PHASE_MS);
      const cpuAlone = cpuMs(gw.child.pid!) - c0;

      log(`honest fleet under attack for ${PHASE_MS / 1000} s…`);
      // The attackers on their own thread: their event loop must not delay the honest clients' (what is measured).
      const attacker = new Worker(new URL("../thread-boot.mjs", import.meta.url), {
        workerData: {
          entry: new URL("./attack-thread.ts", import.meta.url).href,
          url: gw.url,
          victims: keys.map((k) => k.deviceId.toString()),
          // circomlibjs pulls in web-worker, which takes every worker thread for its own and loads workerData.mod:
          // an empty module keeps it quiet (as in verify-pool.ts).
          mod: "data:text/javascript,",
        },
      });
      const attack = new Promise<AttackReport>((resolve, reject) => {
        attacker.on("message", (m: { report?: AttackReport }) => m.report && resolve(m.report));
        attacker.once("error", reject);
      });
      await new Promise<void>((resolve, reject) => {
        attacker.once("message", () => resolve());
        attacker.once("error", reject);
      });
      c0 = cpuMs(gw.child.pid!);
      const attacked = await honestPhase(url, streams, PHASE_MS);
      const cpuAttacked = cpuMs(gw.child.pid!) - c0;
      attacker.postMessage("stop");
      const report = await attack;
      await attacker.terminate();

      gw.child.kill("SIGTERM");
      await new Promise((r) => gw.child.once("exit", r));
      const store = openStore(db);
      let stored = 0;
      for (const k of keys) stored += await store.countReadings(k.deviceId);
      await store.close();

      const p99Alone = percentile(alone.latencies, 99);
      const p99Attacked = percentile(attacked.latencies, 99);
      const attackReqs = answeredCount(report);
      const share = Math.max(0, cpuAttacked - cpuAlone) / cpuAttacked;
      log(
        `p99 ${p99Alone.toFixed(1)} → ${p99Attacked.toFixed(1)} ms; ${attackReqs} attack requests answered ` +
          `(${JSON.stringify(report.answered)}); gateway CPU ${cpuAlone.toFixed(0)} → ${cpuAttacked.toFixed(0)} ms`,
      );
      const note = `${DEVICES} honest devices, a batch of 4 each every ${PERIOD_MS} ms, ${PHASE_MS / 1000} s per phase; ${attackReqs} attack requests from 4 addresses`;
      const results: BenchResult[] = [
        {
          id: "ingest.under_attack.p99_ratio",
          value: p99Attacked / p99Alone,
          unit: "ratio",
          baseline: p99Alone,
          ratio: p99Attacked / p99Alone,
          note: `honest p99 ${p99Attacked.toFixed(1)} ms under attack, ${p99Alone.toFixed(1)} ms alone (goal ≤ 3); ${note}`,
        },
        {
          id: "ingest.under_attack.honest_lost",
          value: alone.sent + attacked.sent - stored,
          unit: "readings",
          note: `${alone.sent + attacked.sent} honest readings acknowledged, ${stored} stored (goal 0 lost)`,
        },
        {
          id: "ingest.under_attack.attack_cpu_share",
          value: share,
          unit: "share",
          baseline: cpuAlone,
          note: `gateway CPU ${cpuAttacked.toFixed(0)} ms under attack vs ${cpuAlone.toFixed(0)} ms alone over the same time`,
        },
      ];
      return results;
    } finally {
      if (gw.child.exitCode === null) gw.child.kill("SIGKILL");
      agent.destroy();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

export default bench;
