/**
 * `mfi withdraw`'s refusals through the real binary, before any transaction: bad options and a broken devnet state
 * file are bad usage (2), an unreachable chain is 3, each with a message and no stack trace. Paying for real is in
 * test/devnet-batch.test.ts (a keeper withdraws for an owner from the chain alone; again: nothing to pay, 1).
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

const ROOT = join(import.meta.dirname, "..", "..");
const dir = mkdtempSync(join(tmpdir(), "mfi-withdraw-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const run = (args: string[]) =>
  promisify(execFile)(process.execPath, ["cli/bin.mjs", "withdraw", ...args], { cwd: ROOT }).then(
    (r) => ({ code: 0, stderr: r.stderr }),
    (e: { code: number; stderr: string }) => ({ code: e.code, stderr: e.stderr }),
  );
const APPLET = `0x${"ab".repeat(32)}`;
const VAULT = `0x${"12".repeat(20)}`;
const KEY = "0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba";
const chain = ["--rpc", "http://127.0.0.1:1", "--key", KEY];

describe("mfi withdraw refuses", () => {
  it("a device id that is not a key id, and a bad applet: 2", async () => {
    for (const device of ["zz", "-1", "", "0", (1n << 254n).toString()]) {
      const r = await run(["--applet", APPLET, "--device", device, "--vault", VAULT, ...chain]);
      expect({ device, code: r.code }).toEqual({ device, code: 2 });
      expect(r.stderr).toMatch(/--device/);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    const r = await run(["--applet", "0x12", "--device", "5", "--vault", VAULT, ...chain]);
    expect([r.code, r.stderr]).toEqual([2, expect.stringMatching(/--applet/)]);
  });

  it("no vault, or a devnet state whose batch-vault.json is broken: 2, saying to pass --vault", async () => {
    const none = await run(["--applet", APPLET, "--device", "5", ...chain]);
    expect([none.code, none.stderr]).toEqual([2, expect.stringMatching(/--vault/)]);
    writeFileSync(join(dir, "batch-vault.json"), "{not json");
    const broken = await run(["--applet", APPLET, "--device", "5", "--state", dir, ...chain]);
    expect([broken.code, broken.stderr]).toEqual([2, expect.stringMatching(/batch-vault\.json.*--vault/)]);
    writeFileSync(join(dir, "batch-vault.json"), JSON.stringify({ address: "nope" }));
    const bad = await run(["--applet", APPLET, "--device", "5", "--state", dir, ...chain]);
    expect([bad.code, bad.stderr]).toEqual([2, expect.stringMatching(/names no BatchVault address/)]);
  });

  it("an unreachable chain: 3", async () => {
    const r = await run(["--applet", APPLET, "--device", "5", "--vault", VAULT, ...chain]);
    expect([r.code, r.stderr]).toEqual([3, expect.stringMatching(/cannot reach http:\/\/127\.0\.0\.1:1/)]);
  });
});
