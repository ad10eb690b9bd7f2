/**
 * `npm run bench -- mqtt` → build/bench/mqtt.json. One run:
 *   ingest.crypto_floor.per_s            hash each reading into its chain + verify its signature, one thread per core
 *   ingest.mqtt.single.per_s             readings/s acknowledged after commit, one signed reading per MQTT message
 *   ingest.mqtt.single.vs_floor_ratio    ÷ the floor (goal ≥ 0.6)
 *   ingest.mqtt.p99_ms                   p99 publish → after-commit answer at half the single peak
 *   ingest.single.vs_floor_ratio         HTTP single-reading ingest (keep-alive, same devices count) ÷ the same floor
 * Broker: Debian mosquitto (MQTT 5) when installed, else aedes in-process (MQTT 3.1.1, sharing the CPU with us).
 * Readings are signed before the clock starts; the publisher is one client in this process, like a device fleet
 * behind one broker connection.
 */
import { mkdtempSync } from "node:fs";
import { Agent, request } from "node:http";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { connectAsync } from "mqtt";
import {
  ackTopic,
  backendStatus,
  getDefaultBackend,
  readingsTopic,
  type EddsaBackend,
} from "../../device-sdk/index.ts";
import type { Bench, BenchResult } from "../../core/index.ts";
import { percentile } from "../../core/index.ts";
import { mosquittoBin, startAedes, startMosquitto, type TestBroker } from "./test-brokers.ts";
import { createGateway } from "../app.ts";
import { threadRate } from "../bench-threads.ts";
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

async function cryptoFloor(backend: EddsaBackend, workers: number): Promise<number> {
  return threadRate(
    new URL("./bench-floor-worker.ts", import.meta.url),
    Array.from({ length: workers }, (_, t) => ({
      backendName: backend.name,
      seed: 70_000 + t * 16,
      name: "mfi-bench-floor",
    })),
  );
}

/** Publish each device's readings in order (next after the previous answer), devices concurrently. */
async function drive(broker: TestBroker, streams: { deviceId: bigint; payloads: string[] }[], intervalMs?: number) {
  const v5 = broker.protocolVersion === 5;
  const client = await connectAsync(broker.url, {
    protocolVersion: broker.protocolVersion,
    clean: true,
    reconnectPeriod: 0,
  });
  (client.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
  const waiting = new Map<string, (status: number) => void>();
  client.on("message", (topic, payload, packet) => {
    const corr = v5 ? packet.properties?.correlationData?.toString() : topic.slice(topic.lastIndexOf("/") + 1);
    const body = JSON.parse(payload.toString()) as { acks?: unknown; status?: number };
    waiting.get(corr!)?.(body.acks ? 201 : (body.status ?? 0));
    waiting.delete(corr!);
  });
  await client.subscribeAsync(ackTopic("+", v5 ? "bench" : "+"), { qos: 1 });
  const latencies: number[] = [];
  let accepted = 0;
  let n = 0;
  const t0 = performance.now();
  await Promise.all(
    streams.map(async (s, d) => {
      for (let i = 0; i < s.payloads.length; i++) {
        if (intervalMs) {
          const wait = t0 + (i + d / streams.length) * intervalMs - performance.now();
          if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        }
        const corr = `b${++n}`;
        const t = performance.now();
        const answered = new Promise<number>((r) => waiting.set(corr, r));
        if (v5)
          client.publish(readingsTopic(s.deviceId), s.payloads[i]!, {
            qos: 1,
            properties: { responseTopic: ackTopic(s.deviceId, "bench"), correlationData: Buffer.from(corr) },
          });
        else client.publish(readingsTopic(s.deviceId, corr), s.payloads[i]!, { qos: 1 });
        const status = await answered;
        latencies.push(performance.now() - t);
        if (status !== 201) throw new Error(`MQTT ingest answered ${status}`);
        accepted++;
      }
    }),
  );
  const perS = (accepted * 1000) / (performance.now() - t0);
  await client.endAsync();
  return { perS, latencies };
}

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
    log(`crypto floor: ${floor.toFixed(0)} readings/s on ${workers} threads (hash + verify, no I/O)`);

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
      const keys = Array.from({ length: DEVICES + PACED }, (_, i) => testKey(backend, 5000 + i));
      for (const k of keys) {
        const res = await gw.app.request("/v1/devices", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(registrationBody(backend, k)),
        });
        if (res.status !== 201) throw new Error("registration failed");
      }
      const perDevice = Math.max(2, Math.min(60, Math.ceil((floor * 3) / DEVICES)));
      log(`signing ${perDevice * DEVICES} single readings…`);
      const single = keys.slice(0, DEVICES).map((k) => ({
        deviceId: k.deviceId,
        payloads: makeChain(backend, k, perDevice).wire.map((w) => JSON.stringify([w])),
      }));
      const s = await drive(broker, single);
      log(`mqtt single (${broker.name}): ${s.perS.toFixed(0)} readings/s`);

      const rate = s.perS / 2;
      const pacedPer = Math.ceil(Math.max(40, Math.min(3000, Math.ceil(rate * 3))) / PACED);
      const paced = keys.slice(DEVICES).map((k) => ({
        deviceId: k.deviceId,
        payloads: makeChain(backend, k, pacedPer).wire.map((w) => JSON.stringify([w])),
      }));
      const p = await drive(broker, paced, (PACED * 1000) / rate);
      const p99 = percentile(p.latencies, 99);
      log(`p99 at ${p.perS.toFixed(0)}/s: ${p99.toFixed(2)} ms`);

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
        httpPerS = await httpSingle(
          http.url,
          hk.map((k) => ({
            deviceId: k.deviceId,
            bodies: makeChain(backend, k, perDevice).wire.map((w) => JSON.stringify(w)),
          })),
        );
        log(`http single: ${httpPerS.toFixed(0)} readings/s`);
      } finally {
        await http.close();
      }

      const note = `backend ${backend.name}; ${workers} cores; broker ${broker.name} (MQTT ${broker.protocolVersion === 5 ? "5" : "3.1.1"}); ${DEVICES} devices on one publisher connection in this process`;
      const results: BenchResult[] = [
        {
          id: "ingest.crypto_floor.per_s",
          value: floor,
          unit: "readings/s",
          note: `Poseidon hash of the reading + EdDSA verify, ${workers} threads, no I/O or parsing`,
        },
        { id: "ingest.mqtt.single.per_s", value: s.perS, unit: "readings/s", note },
        {
          id: "ingest.mqtt.single.vs_floor_ratio",
          value: s.perS / floor,
          unit: "×",
          baseline: floor,
          ratio: s.perS / floor,
          note: "goal ≥ 0.6 of the crypto floor",
        },
        {
          id: "ingest.single.vs_floor_ratio",
          value: httpPerS / floor,
          unit: "×",
          baseline: floor,
          ratio: httpPerS / floor,
          note: `HTTP single-reading ingest ${httpPerS.toFixed(0)}/s, same run, for comparison`,
        },
        {
          id: "ingest.mqtt.p99_ms",
          value: p99,
          unit: "ms",
          note: `publish → after-commit answer at ${p.perS.toFixed(0)} readings/s (half the single peak)`,
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
