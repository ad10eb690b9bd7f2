/**
 * Refusals say what to change, through the real binary: an applet project from `mfi init`, edited the way a new
 * developer would (a float, Math.random(), Date.now()), refused by `mfi build` with exit 2, once, naming the source
 * function and what to write instead.
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

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "mfi-messages-"));
  const r = mfi(["init", "my-applet"], dir);
  expect(r.status, r.stderr).toBe(0);
  project = join(dir, "my-applet");
  source = readFileSync(join(project, "assembly", "index.ts"), "utf8");
  expect(source).toContain("sum += readingValue(r, 0);");
}, 180_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function buildWith(line: string) {
  writeFileSync(join(project, "assembly", "index.ts"), source.replace("sum += readingValue(r, 0);", line));
  return mfi(["build", "."], project);
}

describe("mfi build refuses with what to change", () => {
  it("a float: names the source function, says fixed point, exit 2", () => {
    const r = buildWith("const f: f64 = <f64>readingValue(r, 0) * 1.5; sum += <i64>f;");
    expect(r.stderr).toMatch(/function \d+ \([^)]*mfi_main\) uses f64/);
    expect(r.stderr).toMatch(/use integers or fixed point/);
    expect(r.stderr).toMatch(/fixed helpers/);
    expect(r.status).toBe(2);
  }, 180_000);

  it("Math.random(): use random() from the SDK, said once", () => {
    const r = buildWith("sum += readingValue(r, 0) + <i64>(Math.random() * 2.0);");
    expect(r.stderr.match(/use random\(\) from the SDK/g)).toHaveLength(1);
    expect(r.status).toBe(2);
  }, 180_000);

  it("Date.now(): use readingTs() / epochStart(), said once", () => {
    const r = buildWith("sum += readingValue(r, 0) + <i64>Date.now();");
    expect(r.stderr.match(/use readingTs\(i\) \/ epochStart\(\) from the SDK/g)).toHaveLength(1);
    expect(r.status).toBe(2);
  }, 180_000);
});
