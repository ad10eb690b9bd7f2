/**
 * Rate limits shared by every gateway on one Postgres database (issue 23): a device's and a client's budget hold
 * across all of them, not per process. The buckets live in an UNLOGGED table, one row per (scope, key), refilled and
 * debited by one atomic `INSERT … ON CONFLICT DO UPDATE … RETURNING` on Postgres's clock.
 *
 * Why a hybrid and not a round trip per request: the limiter's interface (rate-limit.ts) is synchronous and sits on
 * the ingest hot path, which already makes one round trip (the append). Here each process decides from its copy of
 * each bucket (the shared value last returned, refilled by the time since, minus what it has spent and not yet
 * written) and writes what it spent behind, coalesced: at most one statement in flight per scope, carrying every key
 * spent since the last one. Each answer brings the other gateways' spending into the copy, and the shared bucket counts
 * every token spent anywhere (down to a debt of one burst), so over a flood the total accepted is the budget (burst +
 * rate × time) plus, per other gateway, about one request (a decision on a copy that has not yet seen this gateway's
 * last spending; a key's first request on a gateway is allowed while its bucket is fetched) and whatever it accepts
 * while one of its writes is in flight (one round trip, about 2 ms here under load); that excess is a debt every
 * gateway pays back before accepting again. Nothing spent is lost: a failed write is kept and retried.
 *
 * Failure: fail closed. Once a write or fetch has failed (Postgres down, the table gone), every decision of this
 * process throws a 503 (`rate-limit-unavailable`, Retry-After 1) until one succeeds; each refused request retries the
 * write (one at a time), so the gateway recovers on its own when Postgres is back.
 */
import pg from "pg";
import { GatewayError } from "./errors.ts";
import type { RateDecision, RateLimiter, RateLimitOptions } from "./rate-limit.ts";

export interface SharedRateLimitsOptions {
  /** Connections for the limiter's writes (default 2: one statement in flight per scope). */
  poolSize?: number;
  /** A copy older than this is refreshed in the background when read (default 500 ms). */
  staleMs?: number;
  /** Local clock (tests). Postgres's own clock refills the shared buckets. */
  now?: () => number;
}

export interface SharedRateLimits {
  /** A limiter whose buckets are shared, under `scope` ("device", "failures", …), by every process using it. */
  limiter<K extends bigint | string>(scope: string, opts: RateLimitOptions): RateLimiter<K>;
  /** Statements sent so far, and bucket rows they wrote (for benches: writes per request). */
  statements(): number;
  rows(): number;
  /** Resolves once what was spent so far is written (or a write failed): tests, and close(). */
  flushed(): Promise<void>;
  /** Write what is still unwritten (best effort), then close the pool. */
  close(): Promise<void>;
}

const SETUP = `
  CREATE UNLOGGED TABLE IF NOT EXISTS mfi_rate_buckets (
    scope text NOT NULL,
    key text NOT NULL,
    tokens float8 NOT NULL,
    at timestamptz NOT NULL,
    PRIMARY KEY (scope, key)
  )`;

// $1 scope, $2 perSecond, $3 burst, $4 keys (sorted: two processes lock rows in one order), $5 tokens spent per key.
// A new row starts full; EXCLUDED.tokens carries burst - spent (floored like the bucket, so the debt floor holds).
const SPEND = `
  INSERT INTO mfi_rate_buckets AS b (scope, key, tokens, at)
  SELECT $1, u.k, GREATEST(-$3::float8, $3::float8 - u.n), clock_timestamp()
  FROM unnest($4::text[], $5::float8[]) AS u(k, n)
  ON CONFLICT (scope, key) DO UPDATE SET
    tokens = GREATEST(-$3::float8, LEAST($3::float8,
      b.tokens + EXTRACT(EPOCH FROM clock_timestamp() - b.at)::float8 * $2::float8) - ($3::float8 - EXCLUDED.tokens)),
    at = clock_timestamp()
  RETURNING key, tokens`;

// A bucket untouched for long enough to be full again carries no information.
const PRUNE = `DELETE FROM mfi_rate_buckets WHERE scope = $1 AND at < clock_timestamp() - make_interval(secs => $2)`;
const PRUNE_EVERY_MS = 60_000;

interface Copy {
  /** The shared bucket as last returned, and the local time it was returned. */
  tokens: number;
  at: number;
  /** Spent here and not yet sent; spent here and sent, not yet answered. */
  pending: number;
  inflight: number;
  /** Local time of the last answer for this key (0: never). */
  syncedAt: number;
}

export function unavailable(cause?: unknown): GatewayError {
  return new GatewayError(503, "rate-limit-unavailable", "the shared rate limits cannot be read", {
    cause,
    details: "the database the gateways share is unavailable; nothing was stored; retry after Retry-After",
    headers: { "retry-after": "1" },
  });
}

/** Open the shared buckets in the Postgres database at `url` (creating their table once, under an advisory lock). */
export async function openSharedRateLimits(url: string, o: SharedRateLimitsOptions = {}): Promise<SharedRateLimits> {
  // query_timeout: a write that hangs (packets dropped, not refused) fails in seconds, so the limiter fails closed
  // (503) instead of waiting minutes for TCP to give up while new keys get unshared local bursts.
  const pool = new pg.Pool({
    connectionString: url,
    max: o.poolSize ?? 2,
    connectionTimeoutMillis: 2_000,
    query_timeout: 5_000,
  });
  pool.on("error", () => {}); // an idle connection lost with the server: the pool drops it
  const client = await pool.connect().catch(async (e) => {
    await pool.end().catch(() => {});
    throw e;
  });
  try {
    await client.query("BEGIN");
    await client.query("SELECT pg_advisory_xact_lock(hashtextextended('mfi.rate_buckets', 0))");
    await client.query(SETUP);
    await client.query("COMMIT");
  } catch (e) {
    await client.query("ROLLBACK").catch(() => {});
    client.release();
    await pool.end().catch(() => {});
    throw e;
  }
  client.release();
  const now = o.now ?? Date.now;
  const staleMs = o.staleMs ?? 500;
  let statements = 0;
  let rows = 0;
  let closed = false;
  const flushes = new Set<() => Promise<void>>();

  function limiter<K extends bigint | string>(scope: string, opts: RateLimitOptions): RateLimiter<K> {
    const { perSecond, burst } = opts;
    const maxKeys = opts.maxKeys ?? 100_000;
    if (!(Number.isFinite(perSecond) && perSecond > 0) || !(Number.isFinite(burst) && burst >= 1) || !(maxKeys >= 1))
      throw new GatewayError(500, "config", `invalid rate limit: ${perSecond}/s, burst ${burst}, maxKeys ${maxKeys}`, {
        details: "perSecond > 0, burst ≥ 1, maxKeys ≥ 1",
      });
    const copies = new Map<string, Copy>();
    const dirty = new Set<string>();
    let running: Promise<void> | undefined;
    let failure: unknown;
    let prunedAt = now();

    const tokensOf = (c: Copy, t: number) =>
      Math.min(burst, c.tokens + ((t - c.at) / 1000) * perSecond) - c.pending - c.inflight;
    const decide = (tokens: number): RateDecision =>
      tokens >= 1 ? { ok: true } : { ok: false, retryAfterMs: Math.ceil(((1 - tokens) / perSecond) * 1000) };

    function copyOf(key: string, t: number): Copy {
      let c = copies.get(key);
      if (c) {
        copies.delete(key); // re-inserted below: the map's order is the order of last touch
      } else {
        c = { tokens: burst, at: t, pending: 0, inflight: 0, syncedAt: 0 };
        for (const [k, v] of copies) {
          if (copies.size < maxKeys) break;
          if (v.pending === 0 && v.inflight === 0) copies.delete(k);
          else break;
        }
      }
      copies.set(key, c);
      if (t - c.syncedAt > staleMs) dirty.add(key);
      return c;
    }

    async function flushOnce(): Promise<void> {
      if (dirty.size === 0) return;
      const keys = [...dirty].sort();
      dirty.clear();
      const sent = keys.map((k) => {
        const c = copies.get(k);
        const n = c ? c.pending : 0;
        if (c) {
          c.inflight += n;
          c.pending = 0;
        }
        return n;
      });
      statements++;
      rows += keys.length;
      try {
        const res = await pool.query<{ key: string; tokens: number }>(SPEND, [scope, perSecond, burst, keys, sent]);
        const t = now();
        const index = new Map(keys.map((k, i) => [k, i]));
        for (const r of res.rows) {
          const c = copies.get(r.key);
          if (!c) continue;
          c.tokens = Number(r.tokens);
          c.at = t;
          c.syncedAt = t;
          c.inflight -= sent[index.get(r.key)!] ?? 0;
        }
        failure = undefined;
        if (t - prunedAt > PRUNE_EVERY_MS) {
          prunedAt = t;
          statements++;
          await pool.query(PRUNE, [scope, (2 * burst) / perSecond]).catch(() => {});
        }
      } catch (e) {
        failure = e;
        // Nothing spent is lost: it goes back to pending and is sent with the next write.
        keys.forEach((k, i) => {
          const c = copies.get(k);
          if (!c) return;
          c.inflight -= sent[i]!;
          c.pending += sent[i]!;
          dirty.add(k);
        });
      }
    }

    /** One write in flight; spending that arrives meanwhile goes in the next one, sent as soon as it returns. */
    function flush(): Promise<void> {
      if (closed || running || dirty.size === 0) return running ?? Promise.resolve();
      running = (async () => {
        do await flushOnce();
        while (!failure && dirty.size > 0 && !closed);
      })().finally(() => (running = undefined));
      return running;
    }
    flushes.add(async () => {
      await running;
      await flush();
    });

    function guard() {
      if (failure !== undefined) {
        void flush();
        throw unavailable(failure);
      }
    }

    return {
      check(key) {
        guard();
        const t = now();
        const c = copyOf(String(key), t);
        const d = decide(tokensOf(c, t));
        void flush();
        return d;
      },
      take(key) {
        guard();
        const t = now();
        const k = String(key);
        const c = copyOf(k, t);
        const d = decide(tokensOf(c, t));
        if (d.ok) {
          c.pending += 1;
          dirty.add(k);
        }
        void flush();
        return d;
      },
      charge(key) {
        // Work already done is always recorded, down or not: it is written once Postgres answers again.
        const t = now();
        const k = String(key);
        const c = copyOf(k, t);
        c.pending += 1;
        dirty.add(k);
        void flush();
      },
      size: () => copies.size,
    };
  }

  const flushed = async () => {
    await Promise.all([...flushes].map((f) => f().catch(() => {})));
  };
  return {
    limiter,
    statements: () => statements,
    rows: () => rows,
    flushed,
    async close() {
      if (closed) return;
      await flushed();
      closed = true;
      await pool.end().catch(() => {});
    },
  };
}
