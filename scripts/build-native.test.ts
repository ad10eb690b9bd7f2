/**
 * A machine without a working C++ compiler still installs: scripts/build-native.mjs (run by postinstall and npm run
 * build) warns once and exits 0, leaving proving to the Wasm prover (or snarkjs); the loader then says why (circuits/native/loader.ts).
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { NATIVE_ADDON, proverBackend } from "../circuits/native/loader.ts";
import { WASM_PROVER } from "../circuits/wasm-prover/addon.ts";

const ROOT = join(import.meta.dirname, "..");

describe("build-native without a compiler", () => {
  it("warns, exits 0 and leaves a built addon untouched", () => {
    const before = existsSync(NATIVE_ADDON) ? readFileSync(NATIVE_ADDON) : undefined;
    const mtime = before ? statSync(NATIVE_ADDON).mtimeMs : 0;
    const r = spawnSync(process.execPath, [join(ROOT, "scripts", "build-native.mjs")], {
      cwd: ROOT,
      env: { ...process.env, CXX: "/nonexistent/g++" },
      encoding: "utf8",
    });
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(
      /⚠ machinefi: the native prover was not built \(.+\); proving uses the Wasm prover or snarkjs/,
    );
    if (before) {
      expect(statSync(NATIVE_ADDON).mtimeMs).toBe(mtime);
      expect(readFileSync(NATIVE_ADDON).equals(before)).toBe(true);
    }
  });

  it("without the addon the prover falls back to snarkjs and says why", () => {
    const b = proverBackend({ addonPath: join(ROOT, "build", "native", "no-such-addon.node"), env: "" });
    expect(b.backend).toBe(existsSync(WASM_PROVER) ? "wasm" : "snarkjs");
    expect(b.reason).toMatch(/not built/);
  });
});
