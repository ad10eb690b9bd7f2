/**
 * A simulated device fleet: each device has a key (kept in stateDir so a restart continues its chain), registers at
 * the gateway and posts batches of readings at a configured rate, signing only the last reading of each batch.
 * values[0] is energy in Wh for the interval (100 ± noise, non-negative, with an occasional spike of 300..500 so
 * threshold-alert has something to claim); values[1] temperature in centi-°C (2250 ± 250). With a seed, each device
 * draws from its own PRNG (seed, device index), so a run's values repeat exactly on the next run with that seed.
 * Faulty devices (a fraction) post readings with a wrong signature now and then; the gateway must refuse them.
 */
import { join } from "node:path";
import {
  createDeviceClient,
  mqttTransport,
  type MqttTransport,
  generateDeviceKey,
  loadDeviceKey,
  memoryStorage,
  bytesToHex,
  type DeviceClient,
  type DeviceKey,
  type EddsaBackend,
} from "../../device-sdk/index.ts";
import { fileStorage } from "../../device-sdk/node.ts";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";

export interface FleetOptions {
  url: string;
  backend: EddsaBackend;
  devices: number;
  readingsPerSecond: number;
  batchSize: number;
  owners: string[];
  chainId: bigint;
  registry: string;
  /** Persist keys and chain positions here (else in memory). */
  stateDir?: string;
  /** Fraction of devices that sometimes send a forged signature. */
  faultyFraction?: number;
  /** Noise source shared by all devices; default Math.random (or the seeded PRNGs when seed is set). */
  random?: () => number;
  /** Seed per-device PRNGs: the same seed gives every device the same value sequence on every run. */
  seed?: number;
  /** Half-width of the uniform noise on values[0] around 100 Wh (default 50). */
  noise?: number;
  now?: () => number;
  onError?: (deviceId: bigint, err: Error) => void;
  /** A broker the gateway ingests from: every second device then posts its readings over MQTT (issue 24). */
  mqtt?: { url: string; protocolVersion: 4 | 5 };
}

export interface FleetDevice {
  key: DeviceKey;
  client: DeviceClient;
  owner: string;
  faulty: boolean;
  /** "mqtt" when this device's readings go through the broker */
  transport: "http" | "mqtt";
}

export interface Fleet {
  devices: FleetDevice[];
  /** Readings acknowledged by the gateway so far. */
  stats(): { sent: number; accepted: number; rejected: number; queued: number };
  start(): void;
  stop(): Promise<void>;
  /**
   * Device `index` signs with `key` from now on (a key rotation): registers the key at the gateway, then swaps the
   * device's client; its chain starts afresh under the new key. Rotate on L1 after this (the gateway refuses the old
   * key once DeviceRegistry replaced it).
   */
  replaceKey(index: number, key: DeviceKey): Promise<void>;
}

function loadKeys(backend: EddsaBackend, n: number, dir?: string): DeviceKey[] {
  if (!dir) return Array.from({ length: n }, () => generateDeviceKey(backend));
  mkdirSync(dir, { recursive: true });
  const file = join(dir, "device-keys.json");
  const saved: string[] = existsSync(file) ? JSON.parse(readFileSync(file, "utf8")) : [];
  while (saved.length < n) saved.push(bytesToHex(generateDeviceKey(backend).privateKey));
  writeFileSync(file, JSON.stringify(saved, null, 2), { mode: 0o600 });
  return saved.slice(0, n).map((hex) => loadDeviceKey(backend, hex));
}

/** mulberry32: a small, fast, well-mixed 32-bit PRNG; enough for simulated noise (not for keys). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One reading's values from three draws of random: [energy Wh, temperature centi-°C]. */
export function simulatedValues(random: () => number, noise: number): bigint[] {
  const spike = random() < 0.15;
  const u = random();
  const energy = spike ? 300 + u * 200 : Math.max(0, 100 + (2 * u - 1) * noise);
  return [BigInt(Math.floor(energy)), BigInt(Math.floor(2000 + random() * 500))];
}

export async function createFleet(o: FleetOptions): Promise<Fleet> {
  const shared = o.random ?? Math.random;
  const noise = o.noise ?? 50;
  const keys = loadKeys(o.backend, o.devices, o.stateDir && join(o.stateDir, "fleet"));
  const faultyCount = Math.floor(o.devices * (o.faultyFraction ?? 0));
  const transports: MqttTransport[] = [];
  const mqttFor = (i: number) => {
    if (!o.mqtt || i % 2 === 0) return undefined;
    const t = mqttTransport(o.mqtt);
    transports.push(t);
    return t;
  };
  const clientFor = (key: DeviceKey, i: number) =>
    createDeviceClient({
      url: o.url,
      transport: mqttFor(i),
      key,
      backend: o.backend,
      signMode: "last",
      storage: o.stateDir
        ? fileStorage(join(o.stateDir, "fleet", `${key.deviceId.toString(16).slice(0, 16)}.json`))
        : memoryStorage(),
      retry: { attempts: 3, baseDelayMs: 50, maxDelayMs: 1000 },
      now: o.now,
    });
  const devices: (FleetDevice & { random: () => number })[] = keys.map((key, i) => ({
    key,
    random: o.seed === undefined ? shared : seededRandom((Math.imul(o.seed, 0x9e3779b1) + i) >>> 0),
    owner: o.owners[i % o.owners.length]!,
    faulty: i >= o.devices - faultyCount,
    transport: o.mqtt && i % 2 === 1 ? "mqtt" : "http",
    client: clientFor(key, i),
  }));
  for (const d of devices) await d.client.register({ owner: d.owner, chainId: o.chainId, registry: o.registry });
  // A restart may have left batches queued: send them first.
  for (const d of devices) await d.client.flush();

  let sent = 0;
  let accepted = 0;
  let rejected = 0;
  let timer: NodeJS.Timeout | undefined;
  const inflight = new Set<Promise<unknown>>();
  const periodMs = (1000 * o.batchSize) / o.readingsPerSecond;
  const now = o.now ?? Date.now;

  async function postBatch(d: FleetDevice & { random: () => number }): Promise<void> {
    const random = d.random;
    const t = now();
    const step = Math.max(1, Math.floor(periodMs / o.batchSize));
    const inputs = Array.from({ length: o.batchSize }, (_, j) => ({
      ts: t - (o.batchSize - 1 - j) * step,
      values: simulatedValues(random, noise),
    }));
    sent += inputs.length;
    try {
      if (d.faulty && random() < 0.3) {
        // A forged batch: signed by another key. The gateway must answer 401 and store nothing.
        const forger = devices.find((x) => x !== d)?.key ?? d.key;
        const res = await fetch(`${o.url}/v1/devices/${d.key.deviceId}/readings`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(forgedReading(d, forger, o.backend, t)),
        });
        rejected += inputs.length;
        await res.arrayBuffer();
        return;
      }
      const r = await d.client.sendBatch(inputs);
      if (r.status === "accepted") accepted += r.acks.length;
    } catch (err) {
      rejected += inputs.length;
      o.onError?.(d.key.deviceId, err as Error);
    }
  }

  return {
    devices,
    stats: () => ({ sent, accepted, rejected, queued: 0 }),
    start() {
      const tick = () => {
        for (const d of devices) {
          const p = postBatch(d).finally(() => inflight.delete(p));
          inflight.add(p);
        }
        timer = setTimeout(tick, periodMs);
      };
      tick();
    },
    async replaceKey(index, key) {
      const d = devices[index];
      if (!d) throw new RangeError(`the fleet has no device ${index}`);
      const client = clientFor(key, index);
      await client.register({ owner: d.owner, chainId: o.chainId, registry: o.registry });
      d.key = key;
      d.client = client;
      if (o.stateDir) {
        const file = join(o.stateDir, "fleet", "device-keys.json");
        const saved: string[] = JSON.parse(readFileSync(file, "utf8"));
        saved[index] = bytesToHex(key.privateKey);
        writeFileSync(file, JSON.stringify(saved, null, 2), { mode: 0o600 });
      }
    },
    async stop() {
      if (timer) clearTimeout(timer);
      await Promise.allSettled([...inflight]);
      await Promise.allSettled(transports.map((t) => t.close()));
    },
  };
}

/** A reading that claims to be d's next link but carries a signature by another key. */
function forgedReading(d: FleetDevice, forger: DeviceKey, backend: EddsaBackend, ts: number) {
  const msg = BigInt(ts);
  const s = backend.sign(forger.privateKey, msg);
  return {
    deviceId: d.key.deviceId.toString(),
    seq: "1",
    ts: String(ts),
    values: ["1", "0", "0", "0"],
    prev: "0",
    signature: { R8x: s.R8x.toString(), R8y: s.R8y.toString(), S: s.S.toString() },
  };
}
