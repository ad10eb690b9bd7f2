/**
 * `npm run bench -- mqtt` → build/bench/mqtt.json. One run:
 *   ingest.crypto_floor.per_s            hash each reading into its chain + verify its signature, one thread per core
 *   ingest.mqtt.single.per_s             readings/s acknowledged after commit, one signed reading per MQTT message
 *   ingest.mqtt.single.vs_floor_ratio    ÷ the floor (goal ≥ 0.6)
 *   ingest.mqtt.p99_ms                   p99 publish → after-commit answer at half the single peak
 *   ingest.single.vs_floor_ratio         HTTP single-reading ingest (keep-alive, same devices count) ÷ the same floor
 *   ingest.*.cpu_us_per_reading, ingest.mqtt.single.cpu_vs_floor_ratio   CPU time per reading of each party (below)
 * Broker: Debian mosquitto (MQTT 5) when installed, else aedes in-process (MQTT 3.1.1, sharing the CPU with us).
 * The publisher (bench-publisher.ts) is the load generator, not the system under test: one connection on a thread of
 * this process, like a device fleet behind one broker connection, whose readings were signed and whose packets were
 * encoded before the clock starts. Publisher, broker and gateway share the cores the floor uses whole, so the
 * wall-clock ratio carries all three (and other processes' load): the CPU time of each per reading is reported
 * beside it (publisher thread, broker process, gateway = this process minus the publisher), from /proc.
 */
import { mkdtempSync } from "node:fs";
import { Agent, request } from "node:http";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { backendStatus, getDefaultBackend, type EddsaBackend } from "../../device-sdk/index.ts";
import type { Bench, BenchResult } from "../../core/index.ts";
import { percentile } from "../../core/index.ts";
import { mosquittoBin, startAedes, startMosquitto, type TestBroker } from "./test-brokers.ts";
import { createGateway } from "../app.ts";
import { threadRun } from "../bench-threads.ts";
import {
  busiestThreads,
  mainThreadCpuUs,
  ownProcessCpuUs,
  perReading,
  processCpuUs,
  threadsCpuUs,
} from "../bench-cpu.ts";
import type { PublisherData, PublisherResult, PublisherRun } from "./bench-publisher.ts";
import { Worker } from "node:worker_threads";
import { makeChain, registrationBody, testKey } from "../testing.ts";
import { startGateway } from "../server.ts";
import { startMqttIngest } from "./subscriber.ts";

/** HTTP single-reading ingest for the same comparison: each device posts its readings in order, devices concurrently. */
async function httpSingle(url: string, streams: { deviceId: bigint; bodies: string[] }[]): Promise<number> {
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const u = new URL(url);
  const post = (path: string, body: string) =>
    new Promise<number>((resolve, reject) => {
      const req = request(
        {
          host: u.hostname,
          port: u.port,
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
  let accepted = 0;
  const t0 = performance.now();
  await Promise.all(
    streams.map(async (s) => {
      for (const b of s.bodies) {
        const status = await post(`/v1/devices/${s.deviceId}/readings`, b);
        if (status !== 201) throw new Error(`HTTP ingest answered ${status}`);
        accepted++;
      }
    }),
  );
  agent.destroy();
  return (accepted * 1000) / (performance.now() - t0);
}

async function cryptoFloor(backend: EddsaBackend, workers: number) {
  return threadRun(
    new URL("./bench-floor-worker.ts", import.meta.url),
    Array.from({ length: workers }, (_, t) => ({
      backendName: backend.name,
      seed: 70_000 + t * 16,
      name: "mfi-bench-floor",
    })),
  );
}

/** The load generator (bench-publisher.ts) on its own thread, streams pre-encoded there. */
async function startPublisher(broker: TestBroker, streams: { deviceId: bigint; payloads: string[] }[]) {
  const data: PublisherData = {
    url: broker.url,
    protocolVersion: broker.protocolVersion,
    streams: streams.map((s) => ({ deviceId: s.deviceId.toString(), payloads: s.payloads })),
  };
  const w = new Worker(new URL("../thread-boot.mjs", import.meta.url), {
    workerData: { ...data, entry: new URL("./bench-publisher.ts", import.meta.url).href },
    execArgv: [],
  });
  const next = () =>
    new Promise<any>((res, rej) => {
      const onError = (e: unknown) => rej(e);
      w.once("error", onError);
      w.once("message", (m) => (w.off("error", onError), m.error ? rej(new Error(m.error)) : res(m)));
    });
  await next();
  return {
    run: (r: PublisherRun): Promise<PublisherResult> => {
      const done = next();
      w.postMessage(r);
      return done;
    },
    close: async () => {
      w.postMessage({ close: true });
      await new Promise((r) => w.once("exit", r));
    },
  };
}

interface CpuSplit {
  /** per reading, CPU-µs; undefined where /proc is missing */
  gateway: number;
  gatewayMain: number | undefined;
  broker: number | undefined;
  publisher: number | undefined;
  /** this process's busiest threads (the publisher's among them), CPU-µs per reading */
  threads: number[];
}

/** One timed run of the publisher, with the CPU time per reading of each party (gateway = this process − publisher). */
async function measure(
  pub: Awaited<ReturnType<typeof startPublisher>>,
  broker: TestBroker,
  r: PublisherRun,
): Promise<PublisherResult & { perS: number; cpu: CpuSplit }> {
  const p0 = ownProcessCpuUs();
  const m0 = mainThreadCpuUs();
  const t0 = threadsCpuUs();
  const b0 = broker.pid === undefined ? undefined : processCpuUs(broker.pid);
  const res = await pub.run(r);
  const p1 = ownProcessCpuUs();
  const m1 = mainThreadCpuUs();
  const t1 = threadsCpuUs();
  const b1 = broker.pid === undefined ? undefined : processCpuUs(broker.pid);
  const n = res.accepted;
  const publisher = res.cpuUs === undefined ? undefined : res.cpuUs / n;
  return {
    ...res,
    perS: (n * 1000) / res.ms,
    cpu: {
      gateway: (p1 - p0 - (res.cpuUs ?? 0)) / n,
      gatewayMain: perReading(m1, m0, n),
      broker: perReading(b1, b0, n),
      publisher,
      threads: busiestThreads(t0, t1, n),
    },
  };
}

const us = (x: number | undefined) => (x === undefined ? "n/a" : x.toFixed(0));

const bench: Bench = {
  name: "mqtt",
  async run(log) {
    const backend = await getDefaultBackend();
    // Ingest figures on the JS fallback (~100× slower) would be meaningless: refuse rather than report them.
    if (backendStatus()?.fallback)
      throw new Error(
        `ingest is not measured on the fallback backend ${backend.name} (${backendStatus()?.reason}): run \`npm run build\``,
      );
    const workers = availableParallelism();
    const floor = await cryptoFloor(backend, workers);
    log(
      `crypto floor: ${floor.perS.toFixed(0)} readings/s on ${workers} threads (hash + verify, no I/O); ${us(floor.cpuUsPerOp)} CPU-µs each`,
    );

    const broker = mosquittoBin ? await startMosquitto() : await startAedes();
    const dir = mkdtempSync(join(tmpdir(), "mfi-bench-mqtt-"));
    const gw = await createGateway({
      dbPath: join(dir, "bench.sqlite"),
      backend,
      verifyWorkers: workers,
      rateLimit: false,
      maxClockSkewMs: null,
      metrics: false,
    });
    const ingest = await startMqttIngest({
      url: broker.url,
      ctx: gw.ingestContext,
      protocolVersion: broker.protocolVersion,
      shareGroup: broker.shared ? "gateways" : false,
      maxInFlight: 256,
    });
    try {
      const DEVICES = 128;
      const PACED = 32;
      const WARM = 30;
      const keys = Array.from({ length: DEVICES + PACED }, (_, i) => testKey(backend, 5000 + i));
      for (const k of keys) {
        const res = await gw.app.request("/v1/devices", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(registrationBody(backend, k)),
        });
        if (res.status !== 201) throw new Error("registration failed");
      }
      const perDevice = Math.max(2, Math.min(60, Math.ceil((floor.perS * 3) / DEVICES)));
      log(`signing ${(WARM + perDevice) * DEVICES} single readings…`);
      const single = keys.slice(0, DEVICES).map((k) => ({
        deviceId: k.deviceId,
        payloads: makeChain(backend, k, WARM + perDevice).wire.map((w) => JSON.stringify([w])),
      }));
      const pub = await startPublisher(broker, single);
      // Warm-up, untimed: a gateway runs for days, and the first thousand messages of a fresh process go to V8
      // optimizing (and re-optimizing) the ingest path on background threads, a cost of start-up, not of a reading.
      await pub.run({ from: 0, to: WARM });
      const s = await measure(pub, broker, { from: WARM, to: Infinity });
      await pub.close();
      log(
        `mqtt single (${broker.name}): ${s.perS.toFixed(0)} readings/s; CPU-µs per reading: gateway ${us(s.cpu.gateway)} ` +
          `(main thread ${us(s.cpu.gatewayMain)}, other threads ${us(s.cpu.gatewayMain === undefined ? undefined : s.cpu.gateway - s.cpu.gatewayMain)}), ` +
          `broker ${us(s.cpu.broker)}, publisher ${us(s.cpu.publisher)}; floor ${us(floor.cpuUsPerOp)}; ` +
          `busiest threads of this process ${s.cpu.threads.map(us).join(", ")}`,
      );

      const rate = s.perS / 2;
      const pacedPer = Math.ceil(Math.max(40, Math.min(3000, Math.ceil(rate * 3))) / PACED);
      const pacedPub = await startPublisher(
        broker,
        keys.slice(DEVICES).map((k) => ({
          deviceId: k.deviceId,
          payloads: makeChain(backend, k, 2 + pacedPer).wire.map((w) => JSON.stringify([w])),
        })),
      );
      await pacedPub.run({ from: 0, to: 2 });
      const p = await pacedPub.run({ from: 2, to: Infinity, intervalMs: (PACED * 1000) / rate });
      await pacedPub.close();
      const p99 = percentile(p.latencies, 99);
      log(`p99 at ${((p.accepted * 1000) / p.ms).toFixed(0)}/s: ${p99.toFixed(2)} ms`);

      // HTTP on the same machine in the same run, fresh devices and database, for ingest.single.vs_floor_ratio.
      const http = await startGateway({
        dbPath: join(dir, "bench-http.sqlite"),
        backend,
        verifyWorkers: workers,
        rateLimit: false,
        maxClockSkewMs: null,
        operatorAuth: false,
        metrics: false,
      });
      let httpPerS: number;
      let httpCpu: number;
      try {
        const hk = Array.from({ length: DEVICES }, (_, i) => testKey(backend, 9000 + i));
        // registered without a socket: the per-address registration budget is not what this measures
        for (const k of hk) {
          const res = await http.gateway.app.request("/v1/devices", {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify(registrationBody(backend, k)),
          });
          if (res.status !== 201) throw new Error(`registration answered ${res.status}`);
        }
        const bodies = hk.map((k) => ({
          deviceId: k.deviceId,
          bodies: makeChain(backend, k, WARM + perDevice).wire.map((w) => JSON.stringify(w)),
        }));
        // Warm-up as for MQTT, untimed.
        await httpSingle(
          http.url,
          bodies.map((b) => ({ ...b, bodies: b.bodies.slice(0, WARM) })),
        );
        const c0 = ownProcessCpuUs();
        httpPerS = await httpSingle(
          http.url,
          bodies.map((b) => ({ ...b, bodies: b.bodies.slice(WARM) })),
        );
        httpCpu = (ownProcessCpuUs() - c0) / (perDevice * DEVICES);
        log(
          `http single: ${httpPerS.toFixed(0)} readings/s; ${httpCpu.toFixed(0)} CPU-µs per reading (gateway + client)`,
        );
      } finally {
        await http.close();
      }

      const note = `backend ${backend.name}; ${workers} cores; broker ${broker.name} (MQTT ${broker.protocolVersion === 5 ? "5" : "3.1.1"}); ${DEVICES} devices on one publisher connection (bench-publisher.ts, a thread of this process, packets encoded before the clock); ${WARM} readings per device untimed first`;
      const cpuTotal = s.cpu.gateway + (s.cpu.broker ?? 0) + (s.cpu.publisher ?? 0);
      const results: BenchResult[] = [
        {
          id: "ingest.crypto_floor.per_s",
          value: floor.perS,
          unit: "readings/s",
          note: `Poseidon hash of the reading + EdDSA verify, ${workers} threads, no I/O or parsing`,
        },
        { id: "ingest.mqtt.single.per_s", value: s.perS, unit: "readings/s", note },
        {
          id: "ingest.mqtt.single.vs_floor_ratio",
          value: s.perS / floor.perS,
          unit: "×",
          baseline: floor.perS,
          ratio: s.perS / floor.perS,
          note: "goal ≥ 0.6 of the crypto floor",
        },
        {
          id: "ingest.single.vs_floor_ratio",
          value: httpPerS / floor.perS,
          unit: "×",
          baseline: floor.perS,
          ratio: httpPerS / floor.perS,
          note: `HTTP single-reading ingest ${httpPerS.toFixed(0)}/s, same run, for comparison (client in this process)`,
        },
        {
          id: "ingest.mqtt.p99_ms",
          value: p99,
          unit: "ms",
          note: `publish → after-commit answer at ${((p.accepted * 1000) / p.ms).toFixed(0)} readings/s (half the single peak)`,
        },
        // CPU time per reading: where the work goes, and the ratios without the other processes' load. The floor's
        // threads and the parties of the MQTT run are measured the same way (/proc, Linux).
        ...(floor.cpuUsPerOp === undefined
          ? []
          : [
              {
                id: "ingest.crypto_floor.cpu_us_per_reading",
                value: floor.cpuUsPerOp,
                unit: "CPU-µs",
                note: "hash + single verify on one floor thread",
              },
            ]),
        {
          id: "ingest.mqtt.single.cpu_us_per_reading",
          value: s.cpu.gateway,
          unit: "CPU-µs",
          baseline: floor.cpuUsPerOp,
          ratio: floor.cpuUsPerOp === undefined ? undefined : floor.cpuUsPerOp / s.cpu.gateway,
          note: `gateway process without the publisher${broker.pid === undefined ? ` (with ${broker.name}: the broker runs in this process)` : ""}: main thread ${us(s.cpu.gatewayMain)}, other threads (verifier pool, SQLite writer, V8) ${us(s.cpu.gatewayMain === undefined ? undefined : s.cpu.gateway - s.cpu.gatewayMain)}; ratio = floor ÷ gateway`,
        },
        ...(s.cpu.broker === undefined || s.cpu.publisher === undefined
          ? []
          : [
              { id: "ingest.mqtt.broker.cpu_us_per_reading", value: s.cpu.broker, unit: "CPU-µs", note: broker.name },
              {
                id: "ingest.mqtt.publisher.cpu_us_per_reading",
                value: s.cpu.publisher,
                unit: "CPU-µs",
                note: "the load generator (pre-encoded packets), not the system under test",
              },
              {
                id: "ingest.mqtt.single.cpu_vs_floor_ratio",
                value: floor.cpuUsPerOp === undefined ? NaN : floor.cpuUsPerOp / cpuTotal,
                unit: "×",
                baseline: floor.cpuUsPerOp,
                ratio: floor.cpuUsPerOp === undefined ? undefined : floor.cpuUsPerOp / cpuTotal,
                note: `floor CPU ÷ (gateway + broker + publisher) CPU per reading, ${cpuTotal.toFixed(0)} µs: vs_floor_ratio on cores nothing else uses`,
              },
            ]),
        {
          id: "ingest.single.cpu_us_per_reading.mqtt_bench",
          value: httpCpu,
          unit: "CPU-µs",
          note: "HTTP single: gateway + in-process HTTP client, same run",
        },
      ];
      return results;
    } finally {
      await ingest.close();
      await gw.close();
      await broker.close();
    }
  },
};

export default bench;
