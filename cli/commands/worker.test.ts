import { describe, expect, it } from "vitest";
import { execFile, spawn } from "node:child_process";
import { promisify } from "node:util";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openStore, openStoreAsync } from "../../store/index.ts";
import { startTestPostgres } from "../../store/postgres/testing.ts";

const root = join(import.meta.dirname, "..", "..");
const KEY = "0x" + "ac".repeat(32);
// Nothing listens on port 1: the chain is unreachable.
const DOWN = "http://127.0.0.1:1";

const run = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  promisify(execFile)(process.execPath, ["cli/bin.mjs", "worker", "start", ...args], {
    cwd: root,
    env: { ...process.env, MFI_RPC_URL: "", MFI_PRIVATE_KEY: "", ...env },
  });

async function fixture() {
  const dir = mkdtempSync(join(tmpdir(), "mfi-worker-cmd-"));
  const db = join(dir, "db.sqlite");
  await openStore(db).close();
  const a = "0x" + "11".repeat(20);
  const manifest = join(dir, "31337.json");
  writeFileSync(
    manifest,
    JSON.stringify({
      chainId: 31337,
      deployer: a,
      block: 0,
      deployedAt: "2024-01-01T00:00:00Z",
      sourceHash: "0",
      evmVersion: "cancun",
      contracts: { RewardToken: a, DeviceRegistry: a, AppletRegistry: a, PayoutVault: a, DataMarket: a },
      verifiers: {},
      reducers: {},
    }),
  );
  return { dir, db, manifest };
}

describe("mfi worker start", () => {
  it("--help names the key's variable, the options and the exit codes", async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ["cli/bin.mjs", "worker", "start", "--help"], {
      cwd: root,
    });
    for (const s of [
      "--db",
      "--state",
      "--rpc",
      "--manifest",
      "--epoch-ms",
      "--provers",
      "--batch-vault",
      "MFI_PRIVATE_KEY",
    ])
      expect(stdout).toContain(s);
    expect(stdout).toMatch(/Exit codes: 0 stopped/);
  });

  it("refuses bad usage with exit 2 and an unreachable chain with exit 3, naming what is missing", async () => {
    const f = await fixture();
    const key = { MFI_PRIVATE_KEY: KEY };
    const noDb = join(f.dir, "none.sqlite");
    const batching = ["--rpc", DOWN, "--manifest", f.manifest, "--batch-vault", "0x" + "22".repeat(20)];
    const cases: [string[], NodeJS.ProcessEnv, number, RegExp][] = [
      [["--db", f.db], key, 2, /no chain: pass --rpc/],
      [["--db", f.db, "--rpc", DOWN], {}, 2, /MFI_PRIVATE_KEY/],
      [["--db", f.db, "--rpc", DOWN, "--epoch-ms", "abc"], key, 2, /--epoch-ms takes a whole number/],
      [["--db", noDb, "--rpc", DOWN, "--manifest", f.manifest], key, 2, /no database/],
      [["--db", f.db, "--rpc", DOWN, "--manifest", join(f.dir, "none.json")], key, 2, /no deployment manifest at/],
      [["--db", f.db, "--rpc", DOWN, "--manifest", f.manifest, "--batch-vault", "0x12"], key, 2, /--batch-vault takes/],
      [["--db", f.db, ...batching, "--batch-size", "0"], key, 2, /--batch-size takes a whole number ≥ 1/],
      [["--db", f.db, ...batching, "--mock-proofs"], key, 2, /drop --mock-proofs/],
      // issue 26: batches on Postgres too: the URL is taken, and a database that does not answer is said as such
      [["--db", "postgres://127.0.0.1:1/x", ...batching], key, 1, /the database is unavailable/],
      // Without --manifest it asks the chain for its id to find the manifest.
      [["--db", f.db, "--rpc", DOWN], key, 3, /cannot reach http:\/\/127\.0\.0\.1:1/],
    ];
    await Promise.all(
      cases.map(async ([args, env, code, stderr]) => {
        await expect(run(args, env)).rejects.toMatchObject({ code, stderr: expect.stringMatching(stderr) });
      }),
    );
  });

  it("starts on the gateway's database, prints ready, and stops on SIGTERM with exit 0", async () => {
    const f = await fixture();
    await startAndStop(["--db", f.db, "--rpc", DOWN, "--manifest", f.manifest]);
  });

  it("batches on Postgres (issue 26): --db postgres://… --batch-vault starts, migrates the batch tables, stops", async () => {
    const f = await fixture();
    const pg = await startTestPostgres();
    try {
      const url = await pg.createDatabase();
      await (await openStoreAsync(url)).close(); // the gateway creates the database
      // Refused with exit 2 before batches had a Postgres store; now it runs (the chain is down: nothing to batch).
      await startAndStop([
        "--db",
        url,
        "--rpc",
        DOWN,
        "--manifest",
        f.manifest,
        "--batch-vault",
        "0x" + "22".repeat(20),
        "--batch-size",
        "2",
      ]);
      const store = await openStoreAsync(url);
      expect(await store.batches.listBatches()).toEqual([]);
      await store.close();
    } finally {
      await pg.stop();
    }
  }, 60_000);
});

/** Start `mfi worker start` with `args`, wait for its ready line, SIGTERM it, expect exit 0; returns its stdout. */
async function startAndStop(args: string[]): Promise<string> {
  const child = spawn(process.execPath, ["cli/bin.mjs", "worker", "start", ...args], {
    cwd: root,
    env: { ...process.env, MFI_PRIVATE_KEY: KEY },
    stdio: ["ignore", "pipe", "inherit"],
  });
  let buf = "";
  const exit = new Promise<number | string | null>((r) => child.once("exit", (code, signal) => r(code ?? signal)));
  const ready = await new Promise<{ type: string; pid: number }>((resolve, reject) => {
    child.stdout!.on("data", (d: Buffer) => {
      buf += d.toString();
      const line = buf.split("\n").find((l) => l.includes('"ready"'));
      if (line) resolve(JSON.parse(line));
    });
    child.once("exit", () => reject(new Error(`exited before ready: ${buf}`)));
  });
  expect(ready).toMatchObject({ type: "ready", pid: child.pid });
  // A SIGTERM in the first ~25 ms after "ready" sometimes ends the process by the signal before the handler runs
  // (seen under load, cause not found; the worker survives that as it survives a crash): stop it once it is up.
  await new Promise((r) => setTimeout(r, 500));
  child.kill("SIGTERM");
  expect(await exit).toBe(0);
  return buf;
}
