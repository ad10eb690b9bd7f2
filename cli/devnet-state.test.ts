/**
 * The devnet's state folder: kept after a run, removed at the next start once its devnet is gone, found by
 * `mfi status` without options (through the real binary). Each test has its own TMPDIR, so no real devnet's
 * pointer or state is touched.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openStore } from "../store/index.ts";
import {
  lastDevnetFile,
  lastDevnetState,
  makeTemporaryState,
  recordDevnetState,
  runningDevnetAt,
} from "./devnet-state.ts";

const realTmp = tmpdir();
let tmp: string;
beforeEach(() => {
  tmp = mkdtempSync(join(realTmp, "mfi-state-test-"));
  process.env.TMPDIR = tmp;
});
afterEach(() => {
  process.env.TMPDIR = realTmp;
  rmSync(tmp, { recursive: true, force: true });
});

/** The pid of a process that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ["-e", "console.log(process.pid)"], { encoding: "utf8" });
  return Number(r.stdout.trim());
}

describe("devnet state", () => {
  it("a new temporary state removes the states of devnets that stopped, not of running ones", () => {
    const stopped = makeTemporaryState();
    // rewrite its owner as a process that has exited
    writeFileSync(join(stopped, "devnet-owner.json"), JSON.stringify({ pid: deadPid() }));
    const running = makeTemporaryState(); // owned by this (running) process
    expect(existsSync(stopped)).toBe(false);
    expect(existsSync(running)).toBe(true);
    const next = makeTemporaryState();
    expect(existsSync(running)).toBe(true);
    expect(next.startsWith(join(tmp, "mfi-devnet-"))).toBe(true);
  });

  it("the pointer names the devnet started last, once it has a database", async () => {
    expect(lastDevnetState()).toBeUndefined();
    const dir = makeTemporaryState();
    recordDevnetState(dir, true);
    expect(JSON.parse(readFileSync(lastDevnetFile(), "utf8")).dir).toBe(dir);
    expect(lastDevnetState()).toBeUndefined(); // no database yet
    const store = openStore(join(dir, "machinefi.sqlite"));
    await store.close();
    expect(lastDevnetState()).toEqual({ dir, running: true });
  });

  it("mfi deploy finds the running devnet by its chain's URL only (issue 22)", async () => {
    const dir = makeTemporaryState();
    recordDevnetState(dir, true, { rpcUrl: "http://127.0.0.1:8545", mockProofs: true, epochMs: 3000 });
    expect(runningDevnetAt("http://127.0.0.1:8545")).toBeUndefined(); // no database yet
    await openStore(join(dir, "machinefi.sqlite")).close();
    expect(runningDevnetAt("http://localhost:8545")).toEqual({ dir, mockProofs: true, epochMs: 3000 });
    expect(runningDevnetAt("http://127.0.0.1:8546")).toBeUndefined(); // another anvil: same chain id, other chain
    expect(runningDevnetAt("https://rpc.example.org")).toBeUndefined();
    writeFileSync(lastDevnetFile(), JSON.stringify({ dir, pid: deadPid(), rpcUrl: "http://127.0.0.1:8545" }));
    expect(runningDevnetAt("http://127.0.0.1:8545")).toBeUndefined(); // stopped
  });

  it("mfi status without --state reads the last devnet's state; without any, says what to do (exit 2)", async () => {
    const run = (env: NodeJS.ProcessEnv) =>
      new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, [join(import.meta.dirname, "bin.mjs"), "status", "--json"], {
          env: { ...process.env, ...env },
        });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (b: Buffer) => (stdout += b));
        child.stderr.on("data", (b: Buffer) => (stderr += b));
        child.once("close", (code) => resolve({ code, stdout, stderr }));
      });
    const none = await run({ TMPDIR: tmp });
    expect(none.stderr).toMatch(/no devnet has run here yet/);
    expect(none.code).toBe(2);

    const dir = makeTemporaryState();
    const store = openStore(join(dir, "machinefi.sqlite"));
    await store.close();
    recordDevnetState(dir, true);
    const r = await run({ TMPDIR: tmp });
    expect(r.stderr).toContain(`devnet's state: ${dir}`);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ devices: 0 });
  }, 120_000);
});
