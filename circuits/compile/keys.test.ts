/**
 * setupAppletCircuit's cache on failure: a compile that fails (here circom2 running out of memory, stood in for by a
 * mock of the circom runner; the real circom runs in prove.test.ts and the e2e tests) leaves nothing in the cache, no
 * key and no temp directory.
 */
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, it, vi } from "vitest";
import { loadBuiltApplet } from "../../toolchain/index.ts";
import { setupAppletCircuit } from "./keys.ts";

vi.mock("./circom-run.ts", async (importOriginal) => ({
  ...(await importOriginal<typeof import("./circom-run.ts")>()),
  runCircom: async () => {
    throw new Error("circom2 failed: memory allocation of 4294967296 bytes failed");
  },
}));

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

it("a failed compile leaves no key and no temp directory in the cache", async () => {
  dir = mkdtempSync(join(tmpdir(), "mfi-applet-keys-"));
  await expect(
    setupAppletCircuit({ wasm: loadBuiltApplet("energy-sum"), k: 16, buildDir: dir, log: () => {} }),
  ).rejects.toThrow(/circom2 failed: memory allocation/);
  expect(readdirSync(dir)).toEqual([]);
});
