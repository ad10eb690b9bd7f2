/**
 * The processes of `mfi devnet --db postgres`: each role is `node cli/bin.mjs …` in its own process group (a
 * terminal's Ctrl-C reaches the devnet only, which stops them in order: gateways, then the roles, the submitter last),
 * its stdout read line by line. Should the devnet itself die, every child still running is killed on its exit.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";

const bin = join(import.meta.dirname, "..", "bin.mjs");

export interface RoleProcess {
  name: string;
  child: ChildProcess;
  pid: number;
  exited: Promise<number | null>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it is gone. */
  stop(graceMs?: number): Promise<void>;
}

const live = new Set<ChildProcess>();
let hooked = false;
function hookExit() {
  if (hooked) return;
  hooked = true;
  process.on("exit", () => {
    for (const c of live) {
      try {
        c.kill("SIGKILL");
      } catch {
        // already gone
      }
    }
  });
}

/** Start `mfi <args>`; `onLine` gets each stdout line (stderr lines too, with `err` true). */
export function startMfi(
  name: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  onLine: (line: string, err: boolean) => void,
): RoleProcess {
  const child = spawn(process.execPath, [bin, ...args], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  hookExit();
  live.add(child);
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code, signal) => {
      live.delete(child);
      resolve(code ?? (signal ? 128 : null));
    }),
  );
  const lines = (err: boolean) => {
    let buf = "";
    return (b: Buffer) => {
      buf += b.toString();
      let i: number;
      while ((i = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        if (line.trim()) onLine(line, err);
      }
    };
  };
  child.stdout!.on("data", lines(false));
  child.stderr!.on("data", lines(true));
  return {
    name,
    child,
    pid: child.pid!,
    exited,
    async stop(graceMs = 20_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      let timer: NodeJS.Timeout | undefined;
      const killed = new Promise<void>((r) => {
        timer = setTimeout(() => {
          child.kill("SIGKILL");
          r();
        }, graceMs);
      });
      await Promise.race([exited, killed]);
      clearTimeout(timer);
      await exited;
    },
  };
}

/**
 * The embedded Postgres in its own process (postgres-server.ts): its URL, its postmaster's pid, and stop() (the
 * server stopped, its data dir removed).
 */
export async function startPostgresProcess(): Promise<{ url: string; pids: number[]; stop(): Promise<void> }> {
  const root = join(import.meta.dirname, "..", "..");
  const child = spawn(
    process.execPath,
    ["--import", join(root, "cli", "register.mjs"), join(import.meta.dirname, "postgres-server.ts")],
    { stdio: ["pipe", "pipe", "pipe"], detached: true },
  );
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  let err = "";
  child.stderr!.on("data", (b) => (err += b));
  const ready = await new Promise<{ url: string; pid: number }>((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (b) => {
      out += b;
      const line = out.split("\n").find((l) => l.includes('"ready"'));
      if (line) resolve(JSON.parse(line));
    });
    child.once("exit", (code) => reject(new Error(`Postgres did not start (exit ${code}): ${err.slice(-2000)}`)));
  });
  return {
    url: ready.url,
    pids: [child.pid!, ready.pid],
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      await exited;
    },
  };
}

/** Whether a process with this pid is still there. */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
