/**
 * Where the devnet's state is, for the commands that read it afterwards (`mfi status`, `mfi replay`).
 * A devnet without --state runs in a fresh temporary folder that is kept after it stops, so the run can be inspected
 * and replayed; the next devnet to start removes the temporary folders of devnets that are no longer running (each
 * holds its owner's pid). Every devnet records its folder in one pointer file, read by default when a command is not
 * told which database to use.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const PREFIX = "mfi-devnet-";
const OWNER = "devnet-owner.json";
/** The pointer file: the state folder of the devnet started last (by anyone on this machine's tmpdir). */
export const lastDevnetFile = (): string => join(tmpdir(), "mfi-devnet-last.json");

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Removes the temporary state of devnets that stopped (the last run's included), then makes a new one. */
export function makeTemporaryState(): string {
  for (const name of readdirSync(tmpdir())) {
    if (!name.startsWith(PREFIX) || name === "mfi-devnet-last.json") continue;
    const dir = join(tmpdir(), name);
    try {
      const { pid } = JSON.parse(readFileSync(join(dir, OWNER), "utf8")) as { pid: number };
      if (!alive(pid)) rmSync(dir, { recursive: true, force: true });
    } catch {
      // not ours, or being created right now: leave it
    }
  }
  const dir = mkdtempSync(join(tmpdir(), PREFIX));
  writeFileSync(join(dir, OWNER), JSON.stringify({ pid: process.pid }) + "\n");
  return dir;
}

/** What a devnet says of itself in the pointer, once its chain is up: `mfi deploy` hands its applets to it. */
export interface DevnetFacts {
  /** The chain the devnet's contracts are on. */
  rpcUrl?: string;
  /** Whether its worker makes mock proofs (an applet deployed to it is then registered with the MockVerifier). */
  mockProofs?: boolean;
  /** Its epoch length (ms): an applet deployed to it without its own epochLengthMs gets it, as the devnet's own do. */
  epochMs?: number;
}

/** Records `dir` as the state of the devnet started last. */
export function recordDevnetState(dir: string, temporary: boolean, facts: DevnetFacts = {}): void {
  try {
    writeFileSync(lastDevnetFile(), JSON.stringify({ dir, temporary, pid: process.pid, ...facts }) + "\n");
  } catch {
    // a pointer is a convenience; the devnet runs without it
  }
}

/** The state folder of the devnet started last, if it still has a database. */
export function lastDevnetState(): { dir: string; running: boolean } | undefined {
  try {
    const { dir, pid } = JSON.parse(readFileSync(lastDevnetFile(), "utf8")) as { dir: string; pid: number };
    return existsSync(join(dir, "machinefi.sqlite")) ? { dir, running: alive(pid) } : undefined;
  } catch {
    return undefined;
  }
}

/** localhost, 127.0.0.1, ::1 and 0.0.0.0 name the same machine; a URL that does not parse matches only itself. */
function sameEndpoint(a: string, b: string): boolean {
  const local = (h: string) => (["localhost", "127.0.0.1", "[::1]", "0.0.0.0"].includes(h) ? "local" : h);
  try {
    const [x, y] = [new URL(a), new URL(b)];
    return local(x.hostname) === local(y.hostname) && x.port === y.port && x.protocol === y.protocol;
  } catch {
    return a === b;
  }
}

/**
 * Issue 22: the running devnet whose chain is at `rpcUrl`, if the devnet started last is one: its state folder (its
 * worker's database and deployment manifest) and whether it makes mock proofs. Another devnet, a stopped one or another
 * chain gives undefined (two anvils both have chain id 31337 and the same contract addresses: only the URL tells them
 * apart).
 */
export function runningDevnetAt(
  rpcUrl: string,
): { dir: string; mockProofs: boolean; epochMs: number | undefined } | undefined {
  try {
    const p = JSON.parse(readFileSync(lastDevnetFile(), "utf8")) as { dir: string; pid: number } & DevnetFacts;
    if (!p.rpcUrl || !alive(p.pid) || !sameEndpoint(p.rpcUrl, rpcUrl)) return undefined;
    return existsSync(join(p.dir, "machinefi.sqlite"))
      ? { dir: p.dir, mockProofs: !!p.mockProofs, epochMs: p.epochMs }
      : undefined;
  } catch {
    return undefined;
  }
}
