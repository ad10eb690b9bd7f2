/**
 * Issue 22: `mfi deploy` and `mfi dev` refuse what `mfi validate` refuses before anything touches the chain, through
 * the real binary: an `mfi init` project edited with a float and with Math.random() is refused with exit 2 and the
 * same ValidationError text as `mfi build`; the RPC given is a closed port, so a command that reached for the chain
 * would exit 3 (unreachable) instead: no transaction can have been sent.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mfiBin } from "./helpers.ts";

let dir: string;
let project: string;
let source: string;
const mfi = (args: string[], cwd: string) =>
  spawnSync(process.execPath, [mfiBin, ...args], { cwd, encoding: "utf8", timeout: 180_000 });
const CLOSED_RPC = "http://127.0.0.1:9";

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "mfi-deploy-validates-"));
  const r = mfi(["init", "my-applet"], dir);
  expect(r.status, r.stderr).toBe(0);
  project = join(dir, "my-applet");
  source = readFileSync(join(project, "assembly", "index.ts"), "utf8");
  expect(source).toContain("sum += readingValue(r, 0);");
}, 180_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const edit = (line: string) =>
  writeFileSync(join(project, "assembly", "index.ts"), source.replace("sum += readingValue(r, 0);", line));

describe("mfi deploy and mfi dev validate first (issue 22)", () => {
  it.each([
    ["a float", "const f: f64 = <f64>readingValue(r, 0) * 1.5; sum += <i64>f;", /uses f64/],
    ["Math.random()", "sum += readingValue(r, 0) + <i64>(Math.random() * 2.0);", /random\(\)/],
  ])(
    "%s: refused with mfi build's error and exit 2, the chain untouched",
    (_, line, message) => {
      edit(line);
      const build = mfi(["build", "."], project);
      expect(build.status).toBe(2);
      expect(build.stderr).toMatch(message);
      const deploy = mfi(["deploy", ".", "--rpc", CLOSED_RPC, "--key", "0x" + "11".repeat(32)], project);
      expect(deploy.status, deploy.stderr).toBe(2);
      expect(deploy.stderr).toMatch(message);
      const dev = mfi(["dev", ".", "--mock-proofs"], project);
      expect(dev.status, dev.stderr).toBe(2);
      expect(dev.stderr).toMatch(message);
      expect(dev.stdout).not.toMatch(/devnet is up|anvil/);
    },
    300_000,
  );
});
