/**
 * The SQLite implementation of the store interfaces (better-sqlite3, WAL, synchronous=FULL so a commit is on disk
 * before the gateway acknowledges): one database file holds the readings (ReadingStore), the worker's runs and
 * claims (`.worker`, a WorkerStore) and the market's nonces (`.nonces`, a NonceStore).
 */
import Database from "better-sqlite3";
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import type { SignedReading } from "../../device-sdk/index.ts";
import type { AppendJob } from "./append.ts";
import { inlineWriter, threadWriter } from "./writer.ts";
import { sqliteNonceStore } from "./nonces.ts";
import { SqliteWorkerStore } from "./worker-store.ts";
import { SqliteBatchStore } from "./batch-store.ts";
import type { BatchStore } from "../batch-types.ts";
import { migrate, storeMigrations, type Migration } from "./migrations.ts";
import { configureConnection } from "./pragmas.ts";
import type {
  AppendResult,
  DeviceHead,
  DeviceRecord,
  ListDevicesQuery,
  ListReadingsQuery,
  NonceStore,
  ReadingStore,
  StoreSet,
  StoredReading,
} from "../types.ts";
import type { WorkerStore } from "../worker-types.ts";

export interface OpenStoreOptions {
  /** Appended after the store's own migrations (ids namespaced by owner). */
  migrations?: readonly Migration[];
  /** "FULL" (default) survives power loss; "NORMAL" survives process crashes only. */
  synchronous?: "FULL" | "NORMAL";
  /**
   * Cache chain heads in memory (default true). Exact only while this is the one process appending to the file;
   * gateway processes sharing a file (several MQTT gateways on one shared subscription) turn it off, else a stale
   * head answers 409 to a reading another process made the next one. The append's own head check keeps the chain
   * correct either way.
   */
  headCache?: boolean;
}

/** The store set on one SQLite file: `.worker` and `.nonces` live in the same database as the readings. */
export interface SqliteStore extends StoreSet {
  readonly worker: WorkerStore;
  readonly nonces: NonceStore;
  /** The worker's batches (issue 26). */
  readonly batches: BatchStore;
}

const handles = new WeakMap<SqliteStore, Database.Database>();
/** The raw handle, for this implementation's own tests (query plans) only: no other code may write SQL. */
export const sqliteHandleOf = (store: SqliteStore): Database.Database => handles.get(store)!;

/**
 * The dashboard's reads. None may scan `readings` (a test checks the plans): a device's head is one primary-key
 * lookup, totals and per-minute counts come from the trigger-kept counters (./counters.ts).
 */
export const DASHBOARD_SQL = {
  devices: `SELECT d.device_id AS deviceId, d.owner, l.seq AS lastSeq, l.ts AS lastTs, l.vals AS vals
            FROM devices d LEFT JOIN readings l ON l.device_id = d.device_id AND l.seq = (SELECT max(seq) FROM readings m WHERE m.device_id = d.device_id)
            ORDER BY d.n LIMIT ?`,
  total: "SELECT n FROM reading_total WHERE id = 0",
  deviceCount: "SELECT count(*) AS n FROM devices",
  stale: `SELECT d.device_id AS deviceId FROM devices d JOIN readings l ON l.device_id = d.device_id AND l.seq = (SELECT max(seq) FROM readings m WHERE m.device_id = d.device_id)
          WHERE l.received_at < ? ORDER BY d.n`,
  minutes: "SELECT minute, n FROM reading_minutes WHERE minute >= ?",
} as const;

type DeviceRow = {
  device_id: string;
  pk_x: string;
  pk_y: string;
  owner: string;
  chain_id: string;
  registry: string;
  sig_r8x: string;
  sig_r8y: string;
  sig_s: string;
  registered_at: number;
  n: number;
};
type ReadingRow = {
  device_id: string;
  seq: number;
  ts: number;
  vals: string;
  prev: string;
  hash: string;
  sig_r8x: string | null;
  sig_r8y: string | null;
  sig_s: string | null;
  received_at: number;
};

const toDevice = (r: DeviceRow): DeviceRecord => ({
  deviceId: BigInt(r.device_id),
  publicKey: { x: BigInt(r.pk_x), y: BigInt(r.pk_y) },
  owner: r.owner,
  chainId: BigInt(r.chain_id),
  registry: r.registry,
  signature: { R8x: BigInt(r.sig_r8x), R8y: BigInt(r.sig_r8y), S: BigInt(r.sig_s) },
  registeredAt: r.registered_at,
});

const toReading = (r: ReadingRow): StoredReading => ({
  deviceId: BigInt(r.device_id),
  seq: BigInt(r.seq),
  ts: BigInt(r.ts),
  values: (JSON.parse(r.vals) as string[]).map((v) => BigInt(v)),
  prev: BigInt(r.prev),
  hash: BigInt(r.hash),
  signature: r.sig_s === null ? null : { R8x: BigInt(r.sig_r8x!), R8y: BigInt(r.sig_r8y!), S: BigInt(r.sig_s) },
  receivedAt: r.received_at,
});

export const hashApiKey = (key: string) => createHash("sha256").update(key).digest("hex");

/** Open (creating if needed) the SQLite store at `path` (":memory:" for a throwaway one). */
export function openSqliteStore(path: string, opts: OpenStoreOptions = {}): SqliteStore {
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  configureConnection(db, opts.synchronous ?? "FULL");
  db.pragma("foreign_keys = ON");
  migrate(db, [...storeMigrations, ...(opts.migrations ?? [])]);

  const q = {
    insertDevice: db.prepare(
      `INSERT INTO devices (device_id, pk_x, pk_y, owner, chain_id, registry, sig_r8x, sig_r8y, sig_s, registered_at)
       VALUES (@device_id, @pk_x, @pk_y, @owner, @chain_id, @registry, @sig_r8x, @sig_r8y, @sig_s, @registered_at)
       ON CONFLICT (device_id) DO NOTHING`,
    ),
    getDevice: db.prepare("SELECT * FROM devices WHERE device_id = ?"),
    listDevices: db.prepare(
      "SELECT * FROM devices WHERE n > coalesce((SELECT n FROM devices WHERE device_id = @after), 0) ORDER BY n LIMIT @limit",
    ),
    getReading: db.prepare("SELECT * FROM readings WHERE device_id = ? AND seq = ?"),
    last: db.prepare("SELECT * FROM readings WHERE device_id = ? ORDER BY seq DESC LIMIT 1"),
    list: db.prepare(
      `SELECT * FROM readings WHERE device_id = @d AND seq >= @fromSeq AND seq <= @toSeq AND ts >= @fromTs AND ts <= @toTs
       ORDER BY seq LIMIT @limit`,
    ),
    countAll: db.prepare("SELECT count(*) AS c FROM readings"),
    countDevice: db.prepare("SELECT count(*) AS c FROM readings WHERE device_id = ?"),
    insertKey: db.prepare("INSERT INTO api_keys (name, key_hash, created_at) VALUES (?, ?, ?)"),
    checkKey: db.prepare("SELECT name FROM api_keys WHERE key_hash = ?"),
  };

  // One write path: readings commit on a writer thread with its own connection, so fsync never blocks the event loop;
  // only ":memory:" (a connection of its own, no file to share) commits inline.
  const writer = path === ":memory:" ? inlineWriter(db) : threadWriter(path, opts.synchronous ?? "FULL");

  // Group commit: appends queue while the writer commits the previous group; each group is one transaction and so
  // one fsync, which is what bounds ingest with synchronous=FULL (about 2 ms per commit here). Every promise
  // resolves only after its group's commit, so an acknowledged reading is durable.
  interface Job extends AppendJob {
    resolve(r: AppendResult): void;
    reject(e: unknown): void;
  }
  // Chain heads of recently active devices: ingest reads the head on every post, and a SQLite read plus row decoding
  // on the event loop cost ~80 µs. Only this store appends readings (append-only table, one writer), so the cache is
  // exact: filled on read and on commit, never stale. Bounded: dropped whole when it grows past maxHeads.
  const heads = new Map<string, StoredReading>();
  const maxHeads = 100_000;
  const rememberHead = (r: StoredReading) => {
    if (opts.headCache === false) return;
    if (heads.size >= maxHeads) heads.clear();
    heads.set(r.deviceId.toString(), r);
  };
  let pending: Job[] = [];
  let busy = false;
  let idle: (() => void) | undefined;
  const pump = () => {
    if (busy) return;
    // Only when no group is in flight and none is waiting may close() go on (it used to be told "idle" while a group
    // was still committing on the writer thread, then closed that thread under it).
    if (pending.length === 0) return idle?.();
    busy = true;
    const jobs = pending;
    pending = [];
    writer.run(jobs.map(({ deviceId, readings, receivedAt }) => ({ deviceId, readings, receivedAt }))).then(
      (outcomes) => {
        outcomes.forEach((o, i) => {
          const j = jobs[i]!;
          if ("error" in o) j.reject(new Error(o.error));
          else if (o.ok) {
            const stored = j.readings.map((r) => ({ ...r, receivedAt: j.receivedAt }));
            // Groups commit in order and every append is checked against the head: the last committed one is it.
            rememberHead(stored[stored.length - 1]!);
            j.resolve({ ok: true, readings: stored });
          } else {
            heads.delete(j.deviceId.toString());
            j.resolve(o);
          }
        });
        busy = false;
        pump();
      },
      (e) => {
        for (const j of jobs) j.reject(e);
        busy = false;
        pump();
      },
    );
  };
  let closed = false;

  const big = (x: bigint | undefined, dflt: number) =>
    x === undefined
      ? dflt
      : Number(x < 0n ? -1n : x > BigInt(Number.MAX_SAFE_INTEGER) ? BigInt(Number.MAX_SAFE_INTEGER) : x);

  const store: SqliteStore = {
    worker: new SqliteWorkerStore(db),
    batches: new SqliteBatchStore(db),
    nonces: sqliteNonceStore(db),
    async insertDevice(dev) {
      const info = q.insertDevice.run({
        device_id: dev.deviceId.toString(),
        pk_x: dev.publicKey.x.toString(),
        pk_y: dev.publicKey.y.toString(),
        owner: dev.owner,
        chain_id: dev.chainId.toString(),
        registry: dev.registry,
        sig_r8x: dev.signature.R8x.toString(),
        sig_r8y: dev.signature.R8y.toString(),
        sig_s: dev.signature.S.toString(),
        registered_at: dev.registeredAt,
      });
      const row = q.getDevice.get(dev.deviceId.toString()) as DeviceRow;
      return { created: info.changes === 1, device: toDevice(row) };
    },
    async getDevice(deviceId) {
      const row = q.getDevice.get(deviceId.toString()) as DeviceRow | undefined;
      return row && toDevice(row);
    },
    async listDevices(query: ListDevicesQuery = {}) {
      const rows = q.listDevices.all({
        after: query.after?.toString() ?? null,
        limit: query.limit ?? 1000,
      }) as DeviceRow[];
      return rows.map(toDevice);
    },
    async appendReadings(deviceId, readings, receivedAt) {
      if (readings.length === 0) return { ok: true, readings: [] };
      if (closed) throw new Error("the store is closed");
      return new Promise<AppendResult>((resolve, reject) => {
        pending.push({ deviceId, readings, receivedAt, resolve, reject });
        // Let the rest of this event-loop turn's appends join the group.
        if (pending.length === 1) setImmediate(pump);
      });
    },
    async getReading(deviceId, seq) {
      if (seq < 1n || seq > BigInt(Number.MAX_SAFE_INTEGER)) return undefined;
      const row = q.getReading.get(deviceId.toString(), Number(seq)) as ReadingRow | undefined;
      return row && toReading(row);
    },
    async lastReading(deviceId) {
      const key = deviceId.toString();
      const hit = heads.get(key);
      if (hit) return hit;
      const row = q.last.get(key) as ReadingRow | undefined;
      const r = row && toReading(row);
      if (r) rememberHead(r);
      return r;
    },
    async listReadings(query: ListReadingsQuery) {
      const rows = q.list.all({
        d: query.deviceId.toString(),
        fromSeq: big(query.fromSeq, 0),
        toSeq: big(query.toSeq, Number.MAX_SAFE_INTEGER),
        fromTs: big(query.fromTs, 0),
        toTs: big(query.toTs, Number.MAX_SAFE_INTEGER),
        limit: query.limit ?? 1000,
      }) as ReadingRow[];
      return rows.map(toReading);
    },
    async countReadings(deviceId) {
      const row = (deviceId === undefined ? q.countAll.get() : q.countDevice.get(deviceId.toString())) as { c: number };
      return row.c;
    },
    async createApiKey(name) {
      const key = "mfi_" + randomBytes(24).toString("base64url");
      q.insertKey.run(name, hashApiKey(key), Date.now());
      return key;
    },
    async checkApiKey(key) {
      const row = q.checkKey.get(hashApiKey(key)) as { name: string } | undefined;
      return row?.name;
    },
    async listDeviceHeads(limit) {
      const rows = db.prepare(DASHBOARD_SQL.devices).all(limit) as (Omit<DeviceHead, "lastValues"> & {
        vals: string | null;
      })[];
      return rows.map(({ vals, ...d }) => ({
        ...d,
        lastValues: vals ? (JSON.parse(vals) as unknown[]).map(String) : [],
      }));
    },
    async deviceCount() {
      return (db.prepare(DASHBOARD_SQL.deviceCount).get() as { n: number }).n;
    },
    async staleDevices(receivedBefore, limit) {
      const ids = (db.prepare(DASHBOARD_SQL.stale).all(receivedBefore) as { deviceId: string }[]).map(
        (r) => r.deviceId,
      );
      return { count: ids.length, devices: ids.slice(0, limit) };
    },
    async readingActivity(sinceMinute) {
      const total = (db.prepare(DASHBOARD_SQL.total).get() as { n: number } | undefined)?.n ?? 0;
      return { total, minutes: db.prepare(DASHBOARD_SQL.minutes).all(sinceMinute) as { minute: number; n: number }[] };
    },
    async ping() {
      // Reads working is not enough: with the writer thread dead every append fails, so the gateway is not ready.
      if (!writer.healthy()) return false;
      return (db.prepare("SELECT 1 AS one").get() as { one: number }).one === 1;
    },
    async close() {
      if (closed) return;
      closed = true;
      await new Promise<void>((resolve) => {
        idle = resolve;
        pump();
      });
      await writer.close();
      if (db.open) db.close();
    },
  };
  handles.set(store, db);
  return store;
}
