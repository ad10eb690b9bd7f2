/**
 * The precompiled `mfi` (scripts/build-cli.mjs) is the same program as the sources: built into a scratch folder
 * (inside the repository, where npm packages resolve), its help matches the sources' help line for line, and loading
 * every command natively (no tsx) works: CommonJS packages, binaryen's top-level await, files found beside sources.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mfiBin } from "./helpers.ts";

const root = join(import.meta.dirname, "..");
const out = join(root, "build", `cli-test-${process.pid}`);
const run = (file: string, args: string[], env: NodeJS.ProcessEnv = {}) =>
  spawnSync(process.execPath, [file, ...args], {
    cwd: root,
    env: { ...process.env, COLUMNS: "100", ...env },
    encoding: "utf8",
    timeout: 120_000,
  });

beforeAll(() => {
  const r = run(join(root, "scripts", "build-cli.mjs"), ["--out", out, "--quiet"]);
  expect(r.status, r.stderr).toBe(0);
}, 180_000);
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe("the precompiled CLI", () => {
  it("writes a manifest of its sources and a command summary", () => {
    const manifest = JSON.parse(readFileSync(join(out, "manifest.json"), "utf8")) as {
      commands: string[];
      inputs: Record<string, [number, number]>;
    };
    expect(manifest.commands).toContain("validate");
    expect(Object.keys(manifest.inputs)).toContain("cli/main.ts");
    expect(Object.keys(manifest.inputs)).toContain("runtime/index.ts");
    expect(Object.keys(manifest.inputs).some((p) => p.includes("node_modules"))).toBe(false);
    expect(existsSync(join(out, "commands.json"))).toBe(true);
    expect(Object.keys(manifest.inputs)).toContain("package-lock.json"); // an npm install that changes packages
  });

  it("does not rebuild (nor swap the folder under running processes) while it is up to date", () => {
    const before = statSync(join(out, "main.js")).mtimeMs;
    const again = run(join(root, "scripts", "build-cli.mjs"), ["--out", out]);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/up to date/);
    expect(statSync(join(out, "main.js")).mtimeMs).toBe(before);
  });

  it("prints the same `mfi --help` as the sources, without loading any command", () => {
    const bundled = run(join(out, "main.js"), ["--help"]);
    const sources = run(mfiBin, ["--help"], { MFI_TSX: "1" });
    expect(bundled.status).toBe(0);
    expect(bundled.stdout).toBe(sources.stdout);
    expect(bundled.stdout).toMatch(/validate \[options\] <applet\.wasm>/);
  }, 120_000);

  it("loads every command natively and prints the same help for one of them", () => {
    // `help <cmd>` registers every command, so every chunk and every package it imports loads.
    const bundled = run(join(out, "main.js"), ["help", "validate"]);
    const sources = run(mfiBin, ["help", "validate"], { MFI_TSX: "1" });
    expect(bundled.stderr).toBe("");
    expect(bundled.status).toBe(0);
    expect(bundled.stdout).toBe(sources.stdout);
  }, 120_000);

  it("runs a command that loads the metering pass (binaryen, whose ESM build awaits at top level)", () => {
    const wasm = join(root, "build", "applets", "energy-sum.wasm");
    const r = run(join(out, "main.js"), ["validate", wasm]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/[0-9a-f]{64}/);
  }, 120_000);
});
