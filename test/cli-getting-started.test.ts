/**
 * The README's getting started, through the real binary: `mfi init my-applet` makes ./my-applet, then every command
 * takes that folder the same way (`mfi build my-applet`, `mfi test my-applet`), and inside the scaffold `npx mfi`
 * resolves to this project (node_modules/.bin/mfi), not to the registry.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mfiBin } from "./helpers.ts";

let dir: string;
const run = (cmd: string, args: string[], cwd: string) =>
  spawnSync(cmd, args, { cwd, encoding: "utf8", timeout: 240_000 });

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "mfi-start-"));
  const r = run(process.execPath, [mfiBin, "init", "my-applet"], dir);
  expect(r.status, r.stderr).toBe(0);
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("getting started", () => {
  it("npx mfi inside the scaffold runs this project's mfi", () => {
    // --no: never install from the registry; a missing local bin fails instead
    const r = run("npx", ["--no", "--", "mfi", "--help"], join(dir, "my-applet"));
    expect(r.stderr).not.toMatch(/404|could not determine executable/i);
    expect(r.stdout).toMatch(/^Usage: mfi /);
    expect(r.status).toBe(0);
  }, 120_000);

  it("mfi build and mfi test accept the folder mfi init made", () => {
    const built = run(process.execPath, [mfiBin, "build", "my-applet"], dir);
    expect(built.stderr).toBe("");
    expect(built.status).toBe(0);
    expect(existsSync(join(dir, "my-applet", "build", "my-applet.wasm"))).toBe(true);
    const tested = run(process.execPath, [mfiBin, "test", "my-applet"], dir);
    expect(tested.status, tested.stdout + tested.stderr).toBe(0);
  }, 480_000);
});
