import { mkdirSync, mkdtempSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { precompiledIsFresh } from "./precompiled.mjs";

// A fake repository: two sources, one command, and a manifest as scripts/build-cli.mjs writes it.
let dir: string;
let root: URL;
const env = {};
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "mfi-precompiled-"));
  root = pathToFileURL(dir + "/");
  mkdirSync(join(dir, "cli", "commands"), { recursive: true });
  mkdirSync(join(dir, "build", "cli"), { recursive: true });
  writeFileSync(join(dir, "cli", "main.ts"), "main");
  writeFileSync(join(dir, "cli", "commands", "run.ts"), "run");
  writeFileSync(join(dir, "cli", "commands", "run.test.ts"), "a test is not a command");
  const inputs: Record<string, [number, number]> = {};
  for (const p of ["cli/main.ts", "cli/commands/run.ts"]) {
    const s = statSync(join(dir, p));
    inputs[p] = [s.mtimeMs, s.size];
  }
  writeFileSync(join(dir, "build", "cli", "manifest.json"), JSON.stringify({ commands: ["run"], inputs }));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("precompiledIsFresh", () => {
  it("is fresh when nothing changed since the build", () => {
    expect(precompiledIsFresh(root, undefined, env)).toBe(true);
  });
  it("is stale when a source's mtime or size changed (an edit, a checkout)", () => {
    const later = new Date(Date.now() + 5000);
    utimesSync(join(dir, "cli", "main.ts"), later, later);
    expect(precompiledIsFresh(root, undefined, env)).toBe(false);
  });
  it("is stale when a source file grew, even with its old mtime", () => {
    const { mtime } = statSync(join(dir, "cli", "commands", "run.ts"));
    writeFileSync(join(dir, "cli", "commands", "run.ts"), "run, edited");
    utimesSync(join(dir, "cli", "commands", "run.ts"), mtime, mtime);
    expect(precompiledIsFresh(root, undefined, env)).toBe(false);
  });
  it("is stale when a command file was added (another engineer's new command) or a source removed", () => {
    writeFileSync(join(dir, "cli", "commands", "maker.ts"), "new");
    expect(precompiledIsFresh(root, undefined, env)).toBe(false);
    rmSync(join(dir, "cli", "commands", "maker.ts"));
    expect(precompiledIsFresh(root, undefined, env)).toBe(true);
    rmSync(join(dir, "cli", "main.ts"));
    expect(precompiledIsFresh(root, undefined, env)).toBe(false);
  });
  it("is stale without a build, and MFI_TSX=1 always runs the sources", () => {
    expect(precompiledIsFresh(root, undefined, { MFI_TSX: "1" })).toBe(false);
    rmSync(join(dir, "build"), { recursive: true });
    expect(precompiledIsFresh(root, undefined, env)).toBe(false);
  });
});
