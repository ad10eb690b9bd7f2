/**
 * `mfi run` / `mfi validate` as a user calls them (a separate process), which also shows determinism across
 * processes: the same module on the same input gives byte-identical results to the in-process runtime.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { runInProcess } from "../run-in-process.ts";
import { parseReadingsJson, runApplet } from "../../toolchain/index.ts";
import { appletWat } from "../../runtime/testing.ts";
import { register as registerRun } from "./run.ts";
import { register as registerValidate } from "./validate.ts";

const root = join(import.meta.dirname, "..", "..");
const dir = mkdtempSync(join(tmpdir(), "mfi-run-"));

/** Run the commands in-process (the full CLI loads every layer, too slow to spawn per test on two cores). */
const mfi = (args: string[]) => runInProcess([registerRun, registerValidate], args);

afterEach(() => {
  process.exitCode = 0;
});

describe("mfi run / validate", () => {
  it("gives byte-identical results in another process", async () => {
    const script = `
      import { readFileSync } from "node:fs";
      import { Engine, runModule, paramConfig } from "./runtime/index.ts";
import { parseReadingsJson } from "./toolchain/index.ts";
      const e = new Engine();
      const r = runModule(e, e.compile(readFileSync("build/applets/threshold-alert.wasm")), { readings: parseReadingsJson(readFileSync("applets/threshold-alert/fixtures/epoch-1.json", "utf8")), config: paramConfig(300n) });
      console.log(JSON.stringify({ ...r, journal: Buffer.from(r.journal).toString("hex") }));`;
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ["--import", "./cli/register.mjs", "--input-type=module", "-e", script],
      { cwd: root },
    );
    const child = JSON.parse(stdout);
    const local = await runApplet({
      applet: "threshold-alert",
      readings: parseReadingsJson(readFileSync(join(root, "applets/threshold-alert/fixtures/epoch-1.json"), "utf8")),
    });
    expect(child).toEqual({
      ...local,
      decoded: undefined,
      journal: Buffer.from(local.journal).toString("hex"),
    } as never);
  }, 300_000); // a cold tsx + binaryen start takes long when every engineer shares two cores

  it("prints the run result as JSON, the same as runApplet", async () => {
    const fixture = join(root, "applets/uptime-streak/fixtures/epoch-1.json");
    const { code, stdout } = await mfi(["run", "build/applets/uptime-streak.wasm", "--readings", fixture, "--json"]);
    expect(code).toBe(0);
    const out = JSON.parse(stdout);
    const local = await runApplet({
      applet: "uptime-streak",
      readings: parseReadingsJson(readFileSync(fixture, "utf8")),
    });
    expect(out.journal).toBe(Buffer.from(local.journal).toString("hex"));
    expect(out).toMatchObject({
      imageId: local.imageId,
      inputDigest: local.inputDigest,
      journalDigest: local.journalDigest,
      fuelUsed: local.fuelUsed,
      stateRoot: local.stateRoot,
      trap: null,
    });
    expect(out.decoded.claims.map((c: { output: string }) => c.output)).toEqual(
      local.decoded.claims.map((c) => c.output.toString()),
    );
  });

  it("exits 1 with the trap in the JSON when the run traps", async () => {
    const { code, stdout } = await mfi([
      "run",
      "build/applets/energy-sum.wasm",
      "--readings",
      join(root, "applets/energy-sum/fixtures/epoch-1.json"),
      "--fuel",
      "100",
      "--json",
    ]);
    expect(code).toBe(1);
    expect(JSON.parse(stdout).trap).toMatchObject({ kind: "OutOfFuel" });
  });

  it("prints a typed validation error as JSON and exits non-zero", async () => {
    const bad = join(dir, "float.wasm");
    writeFileSync(bad, appletWat({ main: `(drop (f64.const 1))` }));
    writeFileSync(join(dir, "r.json"), "[]");
    const run = await mfi(["run", bad, "--readings", join(dir, "r.json"), "--json"]);
    expect(run.code).toBe(2);
    expect(JSON.parse(run.stdout).error).toMatchObject({
      name: "ValidationError",
      code: "FloatInstruction",
      opcode: "f64.const",
      functionIndex: 9,
    });
    const val = await mfi(["validate", bad, "--json"]);
    expect(val.code).toBe(2);
    expect(JSON.parse(val.stdout)).toMatchObject({ valid: false, error: { code: "FloatInstruction" } });
  });

  it("refuses a malformed readings file with exit 2", async () => {
    writeFileSync(join(dir, "bad.json"), JSON.stringify([{ deviceId: "x", seq: 1, ts: 1, values: [] }]));
    const r = await mfi(["run", "build/applets/energy-sum.wasm", "--readings", join(dir, "bad.json"), "--json"]);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout).error.shortMessage).toMatch(/not an array of readings/);
  });
});
