import { describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openStore } from "../../store/index.ts";

const run = (args: string[], env: NodeJS.ProcessEnv = process.env) =>
  promisify(execFile)(process.execPath, ["cli/bin.mjs", ...args], { cwd: join(import.meta.dirname, "..", ".."), env });

describe("mfi status", () => {
  it("reports devices, runs and claims as JSON", async () => {
    const db = join(mkdtempSync(join(tmpdir(), "mfi-status-")), "db.sqlite");
    const store = openStore(db);
    const sig = { R8x: 1n, R8y: 2n, S: 3n };
    await store.insertDevice({
      deviceId: 5n,
      publicKey: { x: 1n, y: 2n },
      owner: "0x" + "11".repeat(20),
      chainId: 31337n,
      registry: "0x" + "00".repeat(20),
      signature: sig,
      registeredAt: 0,
    });
    await store.close();
    const { stdout } = await run(["status", "--db", db, "--json"]);
    const s = JSON.parse(stdout);
    expect(s).toMatchObject({ devices: 1, readings: 0, runs: { runs: 0 }, claims: { pending: 0, paid: 0 } });
  });
  it("says what to do when there is no database", async () => {
    await expect(run(["status", "--db", "/nonexistent/db.sqlite"])).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/no database/),
    });
    // Without --db, status reads the last devnet's state (a pointer in tmpdir): give it a tmpdir where no devnet ran,
    // since other test files start devnets at the same time.
    const empty = mkdtempSync(join(tmpdir(), "mfi-status-tmp-"));
    await expect(run(["status"], { ...process.env, TMPDIR: empty })).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/--state/),
    });
  });
});
