import { mkdtempSync, rmSync, writeFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGateway, type Gateway } from "../gateway/index.ts";
import { createDeviceClient, type DeviceClientOptions } from "./client.ts";
import { buildJsBackend } from "./eddsa-js.ts";
import type { EddsaBackend } from "./eddsa-api.ts";
import { GatewayRejectedError, SdkError } from "./errors.ts";
import { loadDeviceKey, type DeviceKey } from "./keys.ts";
import { fileStorage, loadOrCreateKeyFile } from "./node.ts";
import { memoryStorage, type PersistedState } from "./storage.ts";

const REG = {
  owner: "0x1111111111111111111111111111111111111111",
  chainId: 31337,
  registry: "0x0000000000000000000000000000000000000000",
};
const dir = mkdtempSync(join(tmpdir(), "mfi-sdk-"));
let backend: EddsaBackend;
let gw: Gateway;
let key: DeviceKey;
const viaApp: typeof fetch = (input, init) => Promise.resolve(gw.app.request(String(input), init));
const noSleep = { sleep: async () => {} };

beforeAll(async () => {
  backend = await buildJsBackend();
  gw = await createGateway({ dbPath: ":memory:", backend, verifyWorkers: 0, maxClockSkewMs: null, rateLimit: false });
  key = loadDeviceKey(backend, new Uint8Array(32).fill(42));
});
afterAll(async () => {
  await gw.close();
  rmSync(dir, { recursive: true, force: true });
});

const client = (o: Partial<DeviceClientOptions> = {}) =>
  createDeviceClient({ url: "http://gw.test", key, backend, fetch: viaApp, ...noSleep, ...o });

describe("device client", () => {
  it("refuses to send before registration with a typed error and keeps the reading queued", async () => {
    const c = client();
    await expect(c.send({ values: [1] })).rejects.toBeInstanceOf(GatewayRejectedError);
    expect(await c.queued()).toBe(1);
    await c.discardOldest();
    expect(await c.queued()).toBe(0);
  });

  it("registers, sends one reading and a batch signed only at the end", async () => {
    const c = client({ signMode: "last" });
    expect(await c.register(REG)).toEqual({ deviceId: key.deviceId.toString(), created: true });
    expect((await c.register(REG)).created).toBe(false);
    const storage = memoryStorage();
    const d = client({ signMode: "last", storage });
    const one = await d.send({ values: [7] });
    expect(one.status).toBe("accepted");
    const batch = await d.sendBatch([{ values: [1] }, { values: [2] }, { values: [3] }]);
    expect(batch.status === "accepted" && batch.acks.map((r) => r.seq)).toEqual(["2", "3", "4"]);
    const stored = await gw.store.listReadings({ deviceId: key.deviceId });
    expect(stored.map((r) => r.signature !== null)).toEqual([true, false, false, true]);
    expect(storage.current()).toMatchObject({ seq: "4", queue: [] });
  });

  it("reads the acks of a gateway from before the IngestAck rename, which names them `receipts`", async () => {
    const oldGateway: typeof fetch = async (input, init) => {
      const res = await viaApp(input, init);
      if (!String(input).endsWith("/readings/batch")) return res;
      const { acks } = (await res.json()) as { acks: unknown[] };
      return new Response(JSON.stringify({ receipts: acks }), { status: res.status, headers: res.headers });
    };
    const other = loadDeviceKey(backend, new Uint8Array(32).fill(43));
    const c = client({ key: other, fetch: oldGateway, signMode: "last" });
    await c.register(REG);
    const r = await c.sendBatch([{ values: [1] }, { values: [2] }]);
    expect(r.status === "accepted" && r.acks.map((x) => x.seq)).toEqual(["1", "2"]);
  });

  it("retries with exponential backoff and full jitter, then queues when the gateway stays away", async () => {
    const delays: number[] = [];
    let failures = 2;
    const flaky: typeof fetch = (i, init) =>
      failures-- > 0 ? Promise.reject(new TypeError("fetch failed")) : viaApp(i, init);
    const storage = memoryStorage();
    const c = client({
      fetch: flaky,
      storage,
      random: () => 0.5,
      sleep: async (ms) => void delays.push(ms),
      retry: { baseDelayMs: 100, maxDelayMs: 250, attempts: 4 },
    });
    // Continue this device's chain from the gateway's head (a fresh storage starts at seq 1 otherwise).
    const head = (await gw.store.lastReading(key.deviceId))!;
    await storage.save({
      version: 1,
      deviceId: key.deviceId.toString(),
      seq: head.seq.toString(),
      lastHash: head.hash.toString(),
      queue: [],
    });
    const r = await c.send({ values: [5] });
    expect(r.status).toBe("accepted");
    expect(delays).toEqual([100, 125]); // 0.5 × min(250, 100·2^1), 0.5 × min(250, 100·2^2)

    const down: typeof fetch = () => Promise.reject(new TypeError("ECONNREFUSED"));
    const off = client({ fetch: down, storage, retry: { attempts: 2 } });
    const q = await off.sendBatch([{ values: [1] }, { values: [2] }]);
    expect(q.status).toBe("queued");
    expect(await off.send({ values: [3] })).toMatchObject({ status: "queued", queued: 2 });
    const back = client({ storage });
    const flushed = await back.flush();
    expect(flushed.status).toBe("accepted");
    expect((await gw.store.lastReading(key.deviceId))!.seq).toBe(8n);
  });

  it("survives a restart: the file-backed queue and chain position carry over", async () => {
    const path = join(dir, "state.json");
    const head = (await gw.store.lastReading(key.deviceId))!;
    await fileStorage(path).save({
      version: 1,
      deviceId: key.deviceId.toString(),
      seq: head.seq.toString(),
      lastHash: head.hash.toString(),
      queue: [],
    });
    const down: typeof fetch = () => Promise.reject(new TypeError("offline"));
    const before = client({ storage: fileStorage(path), fetch: down, retry: { attempts: 1 } });
    expect((await before.send({ values: [11] })).status).toBe("queued");
    // "Restart": a new client over the same file.
    const after = client({ storage: fileStorage(path) });
    expect(await after.queued()).toBe(1);
    const r = await after.send({ values: [12] });
    expect(r.status === "accepted" && r.acks.map((x) => x.seq)).toEqual(["10"]);
    expect((await gw.store.getReading(key.deviceId, 9n))!.values[0]).toBe(11n);
    expect(JSON.parse((await import("node:fs")).readFileSync(path, "utf8")).queue).toEqual([]);
  });

  it("resends idempotently when an acknowledgement was lost", async () => {
    const saves: PersistedState[] = [];
    const head = (await gw.store.lastReading(key.deviceId))!;
    const base = memoryStorage({
      version: 1,
      deviceId: key.deviceId.toString(),
      seq: head.seq.toString(),
      lastHash: head.hash.toString(),
      queue: [],
    });
    const recording = {
      load: base.load,
      save: async (s: PersistedState) => (saves.push(structuredClone(s)), base.save(s)),
    };
    const first = await client({ storage: recording }).sendBatch([{ values: [1] }, { values: [2] }]);
    expect(first.status).toBe("accepted");
    // Crash between the gateway's ack and the client's save: restart from the state saved before sending.
    const replay = client({ storage: memoryStorage(saves[0]) });
    const again = await replay.flush();
    expect(again).toEqual(first);
    expect(await gw.store.countReadings(key.deviceId)).toBe(12);
  });

  it("will not mix two devices in one storage; the key file is created once with mode 0600", async () => {
    const other = loadDeviceKey(backend, new Uint8Array(32).fill(43));
    const storage = memoryStorage({ version: 1, deviceId: "1", seq: "0", lastHash: "0", queue: [] });
    await expect(createDeviceClient({ url: "http://x", key: other, backend, storage }).queued()).rejects.toBeInstanceOf(
      SdkError,
    );
    const kp = join(dir, "keys", "device.key");
    const k1 = await loadOrCreateKeyFile(kp, backend);
    const k2 = await loadOrCreateKeyFile(kp, backend);
    expect(k2.deviceId).toBe(k1.deviceId);
    expect(statSync(kp).mode & 0o777).toBe(0o600);
    const bad = join(dir, "bad.json");
    writeFileSync(bad, "{");
    await expect(fileStorage(bad).load()).rejects.toThrow(/corrupt/);
    expect(await fileStorage(join(dir, "none.json")).load()).toBeUndefined();
  });
});
