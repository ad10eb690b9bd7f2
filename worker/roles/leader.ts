/**
 * Leader lock on Postgres: a session-level advisory lock held on a dedicated connection, so exactly one scheduler (or
 * submitter) is active. A standby tries the lock every `retryMs`; the leader's process dying closes its connection,
 * Postgres drops the lock at once and a standby takes it on its next try. A leader whose connection fails (Postgres
 * restarted) has lost the lock: it is told, stops working, and becomes a standby again.
 */
import pg from "pg";

/** Advisory lock keys: (class, role). The two-int form never meets the stores' per-device bigint locks. */
const LOCK_CLASS = 0x6d666931; // "mfi1"
export const LOCK_ROLES = { scheduler: 1, submitter: 2 } as const;
const START_LOCK = 3;

/**
 * Run `f` (a role's start: the store's migrations, pg-boss's schema and queues) holding one advisory lock that every
 * role's start takes. Migrations and pg-boss each lock their own DDL, but not against each other nor against
 * pg-boss's queue creation (CREATE TABLE … ATTACH PARTITION): roles started together deadlocked on a first start.
 * Under this lock the first role does all the DDL and the others find it done. Session-level, on its own
 * connection: closing it releases the lock even if `f` throws. The lock is tried every `retryMs`, never waited on
 * blindly: while another session holds it, `log` says so every `logEveryMs` with the holder's pid, application and
 * address (a start wedged inside the lock would otherwise block every role's start silently).
 */
export async function withStartLock<T>(
  url: string,
  f: () => Promise<T>,
  o: { log?: (m: string) => void; retryMs?: number; logEveryMs?: number } = {},
): Promise<T> {
  const c = new pg.Client({ connectionString: url, application_name: "mfi-start" });
  c.on("error", () => {});
  await c.connect();
  try {
    const t0 = Date.now();
    let loggedAt = t0;
    for (;;) {
      const r = await c.query<{ ok: boolean }>("SELECT pg_try_advisory_lock($1, $2) AS ok", [LOCK_CLASS, START_LOCK]);
      if (r.rows[0]?.ok) break;
      if (Date.now() - loggedAt >= (o.logEveryMs ?? 10_000)) {
        loggedAt = Date.now();
        o.log?.(`waiting ${Math.round((loggedAt - t0) / 1000)} s for the start lock: ${await startLockHolder(c)}`);
      }
      await new Promise((r) => setTimeout(r, o.retryMs ?? 200));
    }
    return await f();
  } finally {
    await c.end().catch(() => {});
  }
}

/** Who holds the start lock (pg_locks, pg_stat_activity), for the waiting start's log. */
async function startLockHolder(c: pg.Client): Promise<string> {
  const r = await c.query<{ pid: number; app: string; addr: string | null; since: Date | null; state: string | null }>(
    `SELECT l.pid, a.application_name AS app, a.client_addr::text AS addr, a.backend_start AS since, a.state
       FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
      WHERE l.locktype = 'advisory' AND l.granted AND l.classid = $1 AND l.objid = $2 AND l.objsubid = 2`,
    [LOCK_CLASS, START_LOCK],
  );
  const h = r.rows[0];
  if (!h) return "released meanwhile";
  return `held by pid ${h.pid} (${h.app || "no application name"}${h.addr ? ` from ${h.addr}` : ""}, connected ${
    h.since?.toISOString() ?? "?"
  }, ${h.state ?? "?"}); pg_terminate_backend(${h.pid}) frees it if that start is wedged`;
}

export interface LeaderLock {
  /** Resolves once this process holds the lock; `onLost` is called if it is lost later. */
  acquire(onLost: (reason: string) => void): Promise<void>;
  release(): Promise<void>;
}

export function pgLeaderLock(url: string, role: keyof typeof LOCK_ROLES, o: { retryMs?: number } = {}): LeaderLock {
  let client: pg.Client | undefined;
  let heartbeat: NodeJS.Timeout | undefined;
  let released = false;
  const drop = async () => {
    if (heartbeat) clearInterval(heartbeat);
    heartbeat = undefined;
    const c = client;
    client = undefined;
    await c?.end().catch(() => {});
  };
  return {
    async acquire(onLost) {
      released = false;
      for (;;) {
        if (released) throw new Error("leader lock released while waiting");
        const c = new pg.Client({ connectionString: url, application_name: `mfi-${role}` });
        c.on("error", () => {});
        try {
          await c.connect();
          const r = await c.query<{ ok: boolean }>("SELECT pg_try_advisory_lock($1, $2) AS ok", [
            LOCK_CLASS,
            LOCK_ROLES[role],
          ]);
          if (r.rows[0]?.ok) {
            client = c;
            let lost = false;
            const lose = (reason: string) => {
              if (lost || released) return;
              lost = true;
              void drop();
              onLost(reason);
            };
            c.on("error", (err) => lose(`leader connection failed: ${err.message}`));
            c.on("end", () => lose("leader connection closed"));
            // A silently dead connection is found by the next query, not by waiting for TCP to notice.
            heartbeat = setInterval(() => {
              c.query("SELECT 1").catch((err: Error) => lose(`leader connection failed: ${err.message}`));
            }, 1000);
            return;
          }
        } catch {
          /* Postgres unreachable: try again */
        }
        await c.end().catch(() => {});
        await new Promise((r) => setTimeout(r, o.retryMs ?? 500));
      }
    },
    async release() {
      released = true;
      await drop();
    },
  };
}

/** One process on SQLite: nobody else can hold the lock. */
export const soleLeader: LeaderLock = { acquire: async () => {}, release: async () => {} };
