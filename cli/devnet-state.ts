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

/** Records `dir` as the state of the devnet started last. */
export function recordDevnetState(dir: string, temporary: boolean): void {
  try {
    writeFileSync(lastDevnetFile(), JSON.stringify({ dir, temporary, pid: process.pid }) + "\n");
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
