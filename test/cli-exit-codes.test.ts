/**
 * One table of exit codes (cli/errors.ts exitCodeOf, docs/cli.md), through the real binary: every command refuses
 * bad usage with 2 and a message, never a stack trace; refused modules, missing databases and unreachable gateways
 * get the table's code.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serveGateway, type ServedGateway } from "../gateway/index.ts";
import { appletWat } from "../runtime/testing.ts";
import { mfiBin } from "./helpers.ts";

const commands = readdirSync(join(import.meta.dirname, "..", "cli", "commands"))
  .filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts"))
  .map((f) => f.slice(0, -3));

function mfi(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [mfiBin, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (b: Buffer) => (stdout += b.toString()));
    child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}
const stackTrace = /^\s+at .+\(?(file:|node:)/m;

let dir: string;
let gw: ServedGateway;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "mfi-exit-"));
  gw = await serveGateway({
    dbPath: join(dir, "gw.sqlite"),
    logLevel: "silent",
    port: 0,
    hostname: "127.0.0.1",
    chainId: 31337n,
    registry: "0x1111111111111111111111111111111111111111",
    verifyWorkers: 0,
    dashboard: false,
    metrics: false,
  });
});
afterAll(async () => {
  await gw?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("exit codes through the real binary", () => {
  it("every command refuses an unknown option with 2 and a message, no stack trace", async () => {
    expect(commands.length).toBeGreaterThan(10);
    for (const c of commands) {
      const r = await mfi([c, "--no-such-option"]);
      expect({ c, code: r.code }).toEqual({ c, code: 2 });
      expect(r.stderr).toMatch(/^error: /m); // unknown option, or a required one missing
      expect(r.stderr).not.toMatch(stackTrace);
    }
  }, 600_000);

  it("an unknown command is bad usage (2); --help is 0", async () => {
    expect((await mfi(["no-such-command"])).code).toBe(2);
    expect((await mfi(["--help"])).code).toBe(0);
  }, 120_000);

  it("simulate without the gateway's --registry: 2, saying to pass it, no stack trace", async () => {
    const r = await mfi(["simulate", "--url", gw.running.url, "--devices", "1", "--duration", "1"]);
    expect(r.stderr).not.toMatch(stackTrace);
    expect(r.stderr).toMatch(/refused the devices' registration/);
    expect(r.stderr).toMatch(/--registry/);
    expect(r.code).toBe(2);
  }, 120_000);

  it("simulate: a bad option value is 2, an unreachable gateway 3", async () => {
    expect((await mfi(["simulate", "--noise", "-1"])).code).toBe(2);
    const down = await mfi(["simulate", "--url", "http://127.0.0.1:1", "--duration", "1"]);
    expect(down.stderr).toMatch(/cannot reach the gateway at http:\/\/127\.0\.0\.1:1/);
    expect(down.stderr).not.toMatch(stackTrace);
    expect(down.code).toBe(3);
  }, 120_000);

  it("a refused module is 2 (validate), a missing database or bad run id is 2 (status, replay)", async () => {
    const float = join(dir, "float.wasm");
    writeFileSync(float, appletWat({ main: "(local f64)" }));
    const v = await mfi(["validate", float]);
    expect(v.stderr).toMatch(/f64/);
    expect(v.code).toBe(2);
    const s = await mfi(["status", "--db", join(dir, "none.sqlite")]);
    expect(s.stderr).toMatch(/no database at/);
    expect(s.stderr).not.toMatch(stackTrace);
    expect(s.code).toBe(2);
    expect((await mfi(["replay", "abc", "--db", join(dir, "gw.sqlite")])).code).toBe(2);
  }, 120_000);
});
