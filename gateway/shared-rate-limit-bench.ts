/**
 * What the shared rate limits (shared-rate-limit.ts) cost per request, on one Postgres (part of `npm run bench --
 * scale`; SCALE_ONLY=limit runs these alone):
 *   scale.limit.roundtrip_us_per_request    a limiter that asks Postgres on every request: one awaited upsert
 *   scale.limit.hybrid_us_per_request       the hybrid kept: check + charge on the local copy (CPU time per request)
 *   scale.limit.hybrid_statements_per_request  its coalesced writes per request (two processes, 1,000 devices)
 *   scale.limit.hybrid_rows_per_request        bucket rows those writes update, per request
 */
import pg from "pg";
import type { BenchResult } from "../core/index.ts";
import { openSharedRateLimits } from "./shared-rate-limit.ts";

const ROUNDTRIPS = 2_000;
const REQUESTS = 40_000;
const DEVICES = 1_000;

export async function limiterBenches(
  server: { createDatabase(): Promise<string> },
  log: (m: string) => void,
): Promise<BenchResult[]> {
  const db = await server.createDatabase();
  const [a, b] = [await openSharedRateLimits(db), await openSharedRateLimits(db)];
  const pool = new pg.Pool({ connectionString: db, max: 1 });
  try {
    // The alternative: one awaited statement per request (what an asynchronous, Postgres-only limiter does).
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < ROUNDTRIPS; i++)
      await pool.query(
        `INSERT INTO mfi_rate_buckets AS b (scope, key, tokens, at) VALUES ('rt', $1, 99, clock_timestamp())
         ON CONFLICT (scope, key) DO UPDATE SET tokens = LEAST(100, b.tokens
           + EXTRACT(EPOCH FROM clock_timestamp() - b.at)::float8 * 50) - 1, at = clock_timestamp() RETURNING tokens`,
        [String(i % DEVICES)],
      );
    const roundtripUs = Number(process.hrtime.bigint() - t0) / 1000 / ROUNDTRIPS;
    log(`round trip per request: ${roundtripUs.toFixed(0)} µs`);

    // The hybrid: two processes' limiters, requests spread over devices, flushes running between event-loop turns.
    const limiters = [
      a.limiter<bigint>("device", { perSecond: 50, burst: 100 }),
      b.limiter<bigint>("device", { perSecond: 50, burst: 100 }),
    ];
    let cpu = 0;
    for (let i = 0; i < REQUESTS; i += 100) {
      const c0 = process.cpuUsage();
      for (let j = i; j < i + 100; j++) {
        const l = limiters[j % 2]!;
        const d = BigInt(j % DEVICES);
        if (l.check(d).ok) l.charge(d);
      }
      const c = process.cpuUsage(c0);
      cpu += c.user + c.system;
      await new Promise((r) => setImmediate(r));
    }
    await new Promise((r) => setTimeout(r, 200));
    const hybridUs = cpu / REQUESTS;
    const statements = (a.statements() + b.statements()) / REQUESTS;
    const rows = (a.rows() + b.rows()) / REQUESTS;
    log(
      `hybrid: ${hybridUs.toFixed(2)} µs CPU per request, ${statements.toFixed(3)} statements, ${rows.toFixed(3)} rows per request`,
    );
    return [
      {
        id: "scale.limit.roundtrip_us_per_request",
        value: roundtripUs,
        unit: "µs",
        note: `one awaited upsert per request (${ROUNDTRIPS} sequential, one connection): latency added to every request, and one write each`,
      },
      {
        id: "scale.limit.hybrid_us_per_request",
        value: hybridUs,
        unit: "µs",
        baseline: roundtripUs,
        ratio: hybridUs / roundtripUs,
        note: `check + charge on the local copy, CPU per request (${REQUESTS} requests, ${DEVICES} devices, two processes' limiters); no wait on Postgres`,
      },
      {
        id: "scale.limit.hybrid_statements_per_request",
        value: statements,
        unit: "statements",
        note: "coalesced upserts (one in flight per process and scope, all keys spent since the last) per request, in a burst (40,000 requests within tens of ms); requests sparser than a round trip get one statement each, sent behind the request, never awaited by it",
      },
      {
        id: "scale.limit.hybrid_rows_per_request",
        value: rows,
        unit: "rows",
        note: `bucket rows written per request in the same burst (a device's spending since the last write is one row: ${DEVICES} devices, ${REQUESTS / DEVICES} requests each); UNLOGGED table, no WAL`,
      },
    ];
  } finally {
    await pool.end();
    await a.close();
    await b.close();
  }
}
