/**
 * The Postgres implementation of the store interfaces (node-postgres pool): the readings (ReadingStore), the worker's
 * runs and claims (`.worker`, ./worker-store.ts) and the market's nonces (`.nonces`) on one database, which any number
 * of gateway processes may share. Appends commit in groups through `mfi_append_group` (./migrations.ts): the chain rule
 * is checked inside the transaction under a per-device lock, and each promise resolves after its group's COMMIT
 * (synchronous_commit on), so an acknowledged reading is durable and no two processes can fork a chain. No head cache: another process may have
 * moved the head, and the append's own check is what keeps the chain.
 */
import pg from "pg";
import { createHash, randomBytes } from "node:crypto";
import { hashApiKey } from "../sqlite/open.ts";
import type { SignedReading } from "../../device-sdk/index.ts";
import type {
  AppendResult,
  DeviceHead,
  DeviceRecord,
  ListDevicesQuery,
  ListReadingsQuery,
  NonceStore,
  StoreSet,
  StoredReading,
} from "../types.ts";
import type { WorkerStore } from "../worker-types.ts";
import { storeErrorOf } from "./errors.ts";
import { migratePg, pgStoreMigrations, type PgMigration } from "./migrations.ts";
import { PgWorkerStore } from "./worker-store.ts";
import { PgBatchStore } from "./batch-store.ts";

export interface OpenPgStoreOptions {
  /** Appended after the store's own migrations (Postgres SQL; ids namespaced by owner). */
  migrations?: readonly PgMigration[];
  /** Connections in the pool (default 10): concurrent appends beyond it queue in the pool. */
  poolSize?: number;
}

export interface PgStore extends StoreSet {
  readonly worker: WorkerStore;
  readonly nonces: NonceStore;
}

const INT8 = 20;
// bigint columns (seqs, ms timestamps, counts) as JS numbers, as SQLite gives them; numeric (rewards) stays a string.
const types = {
  getTypeParser: ((oid: number, format?: "text" | "binary") =>
    oid === INT8 && format !== "binary"
      ? (v: string) => Number(v)
      : pg.types.getTypeParser(oid, format as "text")) as typeof pg.types.getTypeParser,
};

const rethrow = (e: unknown): never => {
  throw storeErrorOf(e);
};

/** A pool of connections to `url` that parses bigint as number; idle connections that break are dropped, not thrown. */
export function pgPool(url: string, max = 10): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max, types, connectionTimeoutMillis: 10_000 });
  // An idle connection's error (the server restarting) must not crash the process: the pool discards that client.
  pool.on("error", () => {});
  return pool;
}

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

/** The bigint columns take at most 2^63 - 1; a query bound beyond a JS safe integer is clamped, as on SQLite. */
const big = (x: bigint | undefined, dflt: number) =>
  x === undefined
    ? dflt
    : Number(x < 0n ? -1n : x > BigInt(Number.MAX_SAFE_INTEGER) ? BigInt(Number.MAX_SAFE_INTEGER) : x);

const MAX_INT8 = (1n << 63n) - 1n;
/** Groups committing at once (each on its own connection), and the readings one group takes at most. */
const MAX_GROUPS = 4;
const MAX_GROUP_READINGS = 5_000;

/** The dashboard's reads: a device's head is one primary-key step (LATERAL … ORDER BY seq DESC LIMIT 1). */
const HEAD = `LEFT JOIN LATERAL (SELECT seq, ts, vals, received_at FROM readings m WHERE m.device_id = d.device_id ORDER BY seq DESC LIMIT 1) l ON true`;

/** Open the store on the Postgres database at `url`, migrating it first (once, whichever process comes first). */
export async function openPostgresStore(url: string, opts: OpenPgStoreOptions = {}): Promise<PgStore> {
  const pool = pgPool(url, opts.poolSize ?? 10);
  try {
    const client = await pool.connect();
    try {
      await migratePg(client, [...pgStoreMigrations, ...(opts.migrations ?? [])]);
    } finally {
      client.release();
    }
  } catch (e) {
    await pool.end().catch(() => {});
    throw storeErrorOf(e);
  }
  // Every statement prepared once per connection (named by its text's hash): ingest runs the same few all the time,
  // and parsing and planning them on each call cost Postgres more CPU than executing them.
  const names = new Map<string, string>();
  const nameOf = (text: string) => {
    let n = names.get(text);
    if (!n) names.set(text, (n = "mfi_" + createHash("sha256").update(text).digest("hex").slice(0, 24)));
    return n;
  };
  const q = <R extends pg.QueryResultRow>(text: string, values?: unknown[]) =>
    pool.query<R>({ name: nameOf(text), text, values }).catch(rethrow);
  let lastPrune = 0;
  let closed = false;

  const nonces: NonceStore = {
    async consume(buyer, nonce, expirySeconds, nowMs) {
      if (nowMs - lastPrune > 60_000) {
        lastPrune = nowMs;
        await q("DELETE FROM market_nonces WHERE expiry < $1", [Math.floor(nowMs / 1000)]);
      }
      const expiry = expirySeconds > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(expirySeconds);
      const r = await q(
        "INSERT INTO market_nonces (buyer, nonce, expiry, used_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        [buyer.toLowerCase(), nonce.toString(), expiry, nowMs],
      );
      return r.rowCount === 1;
    },
  };

  // Group commit, as on SQLite: the appends queued while earlier groups commit go in one call of mfi_append_group, one
  // transaction and so one WAL flush for all of them; a few groups are in flight at once on their own connections.
  // One job per device in flight: a device's later append waits for its earlier one, so appends keep their order.
  interface Job {
    deviceId: bigint;
    key: string;
    readings: readonly SignedReading[];
    receivedAt: number;
    resolve(r: AppendResult): void;
    reject(e: unknown): void;
  }
  let pending: Job[] = [];
  const appending = new Set<string>();
  let inFlight = 0;
  let scheduled = false;
  let drained: (() => void) | undefined;
  const pump = () => {
    scheduled = false;
    while (inFlight < MAX_GROUPS && pending.length > 0) {
      const group: Job[] = [];
      const rest: Job[] = [];
      let n = 0;
      for (const j of pending) {
        if (appending.has(j.key) || n >= MAX_GROUP_READINGS) rest.push(j);
        else {
          group.push(j);
          appending.add(j.key);
          n += j.readings.length;
        }
      }
      pending = rest;
      if (group.length === 0) break;
      inFlight++;
      void appendGroup(group).finally(() => {
        for (const j of group) appending.delete(j.key);
        inFlight--;
        pump();
      });
    }
    if (inFlight === 0 && pending.length === 0) drained?.();
  };
  const appendGroup = async (jobs: Job[]) => {
    const all = jobs.flatMap((j) => j.readings);
    const col = <T>(f: (r: SignedReading) => T) => all.map(f);
    let first = 1;
    const firsts = jobs.map((j) => {
      const f = first;
      first += j.readings.length;
      return f;
    });
    try {
      const r = await q<{ job: number; ok: boolean; head_seq: number | null; head_hash: string | null }>(
        "SELECT * FROM mfi_append_group($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        [
          jobs.map((j) => j.key),
          jobs.map((j) => j.receivedAt),
          firsts,
          jobs.map((j) => j.readings.length),
          col((x) => x.seq.toString()),
          col((x) => x.ts.toString()),
          col((x) => JSON.stringify(x.values.map(String))),
          col((x) => x.prev.toString()),
          col((x) => x.hash.toString()),
          col((x) => x.signature?.R8x.toString() ?? null),
          col((x) => x.signature?.R8y.toString() ?? null),
          col((x) => x.signature?.S.toString() ?? null),
        ],
      );
      for (const row of r.rows) {
        const j = jobs[row.job - 1]!;
        if (row.ok) j.resolve({ ok: true, readings: j.readings.map((x) => ({ ...x, receivedAt: j.receivedAt })) });
        else
          j.resolve({
            ok: false,
            head: row.head_seq === null ? undefined : { seq: BigInt(row.head_seq), hash: BigInt(row.head_hash!) },
          });
      }
    } catch (e) {
      // Nothing of the group was written (one transaction): every job fails, none half-done.
      for (const j of jobs) j.reject(e);
    }
  };

  const store: PgStore = {
    worker: new PgWorkerStore(pool),
    batches: new PgBatchStore(pool),
    nonces,
    async insertDevice(dev) {
      const ins = await q<DeviceRow>(
        `INSERT INTO devices (device_id, pk_x, pk_y, owner, chain_id, registry, sig_r8x, sig_r8y, sig_s, registered_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (device_id) DO NOTHING RETURNING *`,
        [
          dev.deviceId.toString(),
          dev.publicKey.x.toString(),
          dev.publicKey.y.toString(),
          dev.owner,
          dev.chainId.toString(),
          dev.registry,
          dev.signature.R8x.toString(),
          dev.signature.R8y.toString(),
          dev.signature.S.toString(),
          dev.registeredAt,
        ],
      );
      if (ins.rows[0]) return { created: true, device: toDevice(ins.rows[0]) };
      const row = (await q<DeviceRow>("SELECT * FROM devices WHERE device_id = $1", [dev.deviceId.toString()]))
        .rows[0]!;
      return { created: false, device: toDevice(row) };
    },
    async getDevice(deviceId) {
      const row = (await q<DeviceRow>("SELECT * FROM devices WHERE device_id = $1", [deviceId.toString()])).rows[0];
      return row && toDevice(row);
    },
    async listDevices(query: ListDevicesQuery = {}) {
      const rows = await q<DeviceRow>(
        "SELECT * FROM devices WHERE n > coalesce((SELECT n FROM devices WHERE device_id = $1), 0) ORDER BY n LIMIT $2",
        [query.after?.toString() ?? null, query.limit ?? 1000],
      );
      return rows.rows.map(toDevice);
    },
    async appendReadings(deviceId, readings, receivedAt) {
      if (readings.length === 0) return { ok: true, readings: [] };
      if (closed) throw new Error("the store is closed");
      const first = readings[0]!;
      // Out of the column's range: it cannot extend any stored head, and Postgres would refuse the number itself.
      if (readings.some((r) => r.seq < 0n || r.seq > MAX_INT8 || r.ts < 0n || r.ts > MAX_INT8)) {
        const head = await store.lastReading(deviceId);
        if (first.seq > MAX_INT8 || first.seq < 0n)
          return { ok: false, head: head && { seq: head.seq, hash: head.hash } };
        throw new RangeError("a reading's seq or ts is beyond a 64-bit signed integer");
      }
      return new Promise<AppendResult>((resolve, reject) => {
        pending.push({ deviceId, key: deviceId.toString(), readings, receivedAt, resolve, reject });
        // Let the rest of this event-loop turn's appends join the group.
        if (!scheduled) {
          scheduled = true;
          setImmediate(pump);
        }
      });
    },
    async getReading(deviceId, seq) {
      if (seq < 1n || seq > BigInt(Number.MAX_SAFE_INTEGER)) return undefined;
      const row = (
        await q<ReadingRow>("SELECT * FROM readings WHERE device_id = $1 AND seq = $2", [
          deviceId.toString(),
          Number(seq),
        ])
      ).rows[0];
      return row && toReading(row);
    },
    async lastReading(deviceId) {
      const row = (
        await q<ReadingRow>("SELECT * FROM readings WHERE device_id = $1 ORDER BY seq DESC LIMIT 1", [
          deviceId.toString(),
        ])
      ).rows[0];
      return row && toReading(row);
    },
    async listReadings(query: ListReadingsQuery) {
      const rows = await q<ReadingRow>(
        `SELECT * FROM readings WHERE device_id = $1 AND seq >= $2 AND seq <= $3 AND ts >= $4 AND ts <= $5
         ORDER BY seq LIMIT $6`,
        [
          query.deviceId.toString(),
          big(query.fromSeq, 0),
          big(query.toSeq, Number.MAX_SAFE_INTEGER),
          big(query.fromTs, 0),
          big(query.toTs, Number.MAX_SAFE_INTEGER),
          query.limit ?? 1000,
        ],
      );
      return rows.rows.map(toReading);
    },
    async countReadings(deviceId) {
      const r =
        deviceId === undefined
          ? await q<{ c: number }>("SELECT coalesce(sum(n), 0)::bigint AS c FROM reading_total")
          : await q<{ c: number }>("SELECT count(*) AS c FROM readings WHERE device_id = $1", [deviceId.toString()]);
      return r.rows[0]!.c;
    },
    async createApiKey(name) {
      const key = "mfi_" + randomBytes(24).toString("base64url");
      await q("INSERT INTO api_keys (name, key_hash, created_at) VALUES ($1, $2, $3)", [
        name,
        hashApiKey(key),
        Date.now(),
      ]);
      return key;
    },
    async checkApiKey(key) {
      return (await q<{ name: string }>("SELECT name FROM api_keys WHERE key_hash = $1", [hashApiKey(key)])).rows[0]
        ?.name;
    },
    async listDeviceHeads(limit) {
      const rows = await q<Omit<DeviceHead, "lastValues"> & { vals: string | null }>(
        `SELECT d.device_id AS "deviceId", d.owner, l.seq AS "lastSeq", l.ts AS "lastTs", l.vals
         FROM devices d ${HEAD} ORDER BY d.n LIMIT $1`,
        [limit],
      );
      return rows.rows.map(({ vals, ...d }) => ({
        ...d,
        lastValues: vals ? (JSON.parse(vals) as unknown[]).map(String) : [],
      }));
    },
    async deviceCount() {
      return (await q<{ n: number }>("SELECT count(*) AS n FROM devices")).rows[0]!.n;
    },
    async staleDevices(receivedBefore, limit) {
      const rows = await q<{ deviceId: string; count: number }>(
        `SELECT d.device_id AS "deviceId", count(*) OVER () AS count FROM devices d ${HEAD}
         WHERE l.received_at < $1 ORDER BY d.n LIMIT $2`,
        [receivedBefore, limit],
      );
      const count =
        rows.rows[0]?.count ??
        (limit > 0
          ? 0
          : (
              await q<{ n: number }>(`SELECT count(*) AS n FROM devices d ${HEAD} WHERE l.received_at < $1`, [
                receivedBefore,
              ])
            ).rows[0]!.n);
      return { count, devices: rows.rows.map((r) => r.deviceId) };
    },
    async readingActivity(sinceMinute) {
      const total = (await q<{ n: number }>("SELECT coalesce(sum(n), 0)::bigint AS n FROM reading_total")).rows[0]!.n;
      const minutes = await q<{ minute: number; n: number }>(
        "SELECT minute, sum(n)::bigint AS n FROM reading_minutes WHERE minute >= $1 GROUP BY minute ORDER BY minute",
        [sinceMinute],
      );
      return { total, minutes: minutes.rows };
    },
    async ping() {
      if (closed) return false;
      try {
        return (await q<{ one: number }>("SELECT 1 AS one")).rows[0]?.one === 1;
      } catch {
        return false;
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      if (inFlight > 0 || pending.length > 0) await new Promise<void>((r) => (drained = r));
      await pool.end();
    },
  };
  return store;
}
