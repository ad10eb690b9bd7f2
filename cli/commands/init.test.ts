/** `mfi init` then `mfi test` on the scaffold, through the real `mfi` binary (no npm install: machinefi is linked). */
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { REPO } from "./init.ts";

const run = promisify(execFile);
const tmp = mkdtempSync(join(tmpdir(), "mfi-init-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function mfi(args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [join(REPO, "cli", "bin.mjs"), ...args], {
      cwd,
      maxBuffer: 1 << 24,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe("mfi init + mfi test", () => {
  it("scaffolds a project whose applet compiles, runs on its fixtures and agrees with its compiled circuit", async () => {
    const init = await mfi(["init", "my-meter", "--json"], tmp);
    expect(init.code).toBe(0);
    const made = JSON.parse(init.stdout) as { dir: string; files: string[] };
    expect(made.files).toEqual(
      expect.arrayContaining([
        "applet.json",
        "assembly/index.ts",
        "fixtures/epoch-1.json",
        "package.json",
        "test/applet.test.ts",
      ]),
    );
    const pkg = JSON.parse(readFileSync(join(made.dir, "package.json"), "utf8")) as {
      name: string;
      devDependencies: Record<string, string>;
    };
    expect(pkg.name).toBe("my-meter");
    expect(pkg.devDependencies.machinefi).toBe(`file:${REPO}`);

    const ok = await mfi(["test", "--json"], made.dir);
    expect(ok.stderr).toBe("");
    expect(ok.code).toBe(0);
    const out = JSON.parse(ok.stdout) as {
      name: string;
      imageId: string;
      results: { ok: boolean; fuelUsed: number; claims: { deviceId: string; output: string }[] }[];
      proof: { provable: boolean; circuits: { k: number; constraints: number; fuelBound: number }[] };
    };
    expect(out.name).toBe("my-meter");
    expect(out.imageId).toMatch(/^(0x)?[0-9a-f]{64}$/);
    expect(out.results).toHaveLength(1);
    expect(out.results[0]!.ok).toBe(true);
    expect(out.results[0]!.fuelUsed).toBeGreaterThan(0);
    // Its compiled circuit claims what the run claims, for both fixture devices.
    expect((out.results[0] as unknown as { circuitChecked: number; circuitMismatches: unknown[] }).circuitChecked).toBe(
      2,
    );
    expect((out.results[0] as unknown as { circuitMismatches: unknown[] }).circuitMismatches).toEqual([]);
    // The scaffold is a provable applet: its claim compiles to a circuit at K = 16 and 64.
    expect(out.proof.provable).toBe(true);
    expect(out.proof.circuits.map((c) => c.k)).toEqual([16, 64]);
    expect(out.proof.circuits[1]!.constraints).toBeGreaterThan(out.proof.circuits[0]!.constraints);
    expect(out.proof.circuits[0]!.fuelBound).toBeGreaterThan(out.results[0]!.fuelUsed);
    // fixtures/epoch-1.json: device 101 sums 13+9+21, device 202 sums 40+2.
    expect(out.results[0]!.claims.sort((a, b) => a.deviceId.localeCompare(b.deviceId))).toEqual([
      { deviceId: "101", output: "43" },
      { deviceId: "202", output: "42" },
    ]);

    // `mfi build .` builds the project folder into its own build/, then finds it up to date.
    const built = await mfi(["build", "."], made.dir);
    expect(built.code).toBe(0);
    expect(built.stdout).toMatch(/applet my-meter: built build\/my-meter\.wasm/);
    expect(readFileSync(join(made.dir, "build", "my-meter.wasm")).subarray(0, 4)).toEqual(
      Buffer.from([0, 0x61, 0x73, 0x6d]),
    );
    expect((await mfi(["build", "."], made.dir)).stdout).toMatch(/applet my-meter: up to date/);
    expect((await mfi(["build", "no-such-applet"], made.dir)).code).toBe(1);

    // An old manifest's reducer is still compared: one the applet does not compute is a mismatch, exit 1.
    const manifest = JSON.parse(readFileSync(join(made.dir, "applet.json"), "utf8")) as Record<string, unknown>;
    writeFileSync(join(made.dir, "applet.json"), JSON.stringify({ ...manifest, reducer: "max" }));
    const bad = await mfi(["test"], made.dir);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/MISMATCH device 101: applet 43, reducer 21/);
  }, 600_000);

  it("mfi test reports an applet that is not provable with its function, offset, reason and what to change", async () => {
    // A state key chosen by the readings: the circuit commits to a fixed list of keys (circuits/compile/fixtures).
    const dir = join(tmp, "data-key");
    mkdirSync(join(dir, "assembly"), { recursive: true });
    mkdirSync(join(dir, "node_modules"), { recursive: true });
    symlinkSync(REPO, join(dir, "node_modules", "machinefi"));
    writeFileSync(join(dir, "applet.json"), JSON.stringify({ name: "data-key", rewardPerUnit: "1" }));
    const source = readFileSync(join(REPO, "circuits", "compile", "fixtures", "assembly", "state-data-key.ts"), "utf8");
    writeFileSync(
      join(dir, "assembly", "index.ts"),
      source.replaceAll("../../../../applets/sdk/", "../node_modules/machinefi/applets/sdk/"),
    );
    const r = await mfi(["test"], dir);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toMatch(/NOT PROVABLE: /);
    expect(r.stdout).toMatch(/reason \w+, function \S+, offset 0x[0-9a-f]+/);
    expect(r.stdout).toMatch(/change: \S/);
    // A stateful applet is provable (issue 18): its state enters and leaves the proof as a commitment.
    const streak = await mfi(["test", "uptime-streak"], REPO);
    expect(streak.code, streak.stdout).toBe(0);
    expect(streak.stdout).toMatch(/provable: K=16 [\d,]+ constraints/);
    expect(streak.stdout).toMatch(/stateful: 2 state key\(s\) carried between epochs/);
    expect(streak.stdout).toMatch(/circuit agrees with the run for \d+ device/);
    const ok = await mfi(["test", "threshold-alert"], REPO);
    expect(ok.stdout).toMatch(/provable: K=16 [\d,]+ constraints .*K=64 [\d,]+ constraints/);
    expect(ok.stdout).not.toMatch(/stateful:/);
    expect(ok.code).toBe(0);
  }, 240_000);

  it("refuses a bad name and a non-empty directory (exit 2)", async () => {
    const badName = await mfi(["init", "My Meter"], tmp);
    expect(badName.code).toBe(2);
    expect(badName.stderr).toMatch(/bad applet name/);
    mkdirSync(join(tmp, "keep"));
    writeFileSync(join(tmp, "keep", "keep.txt"), "x");
    const misnamed = await mfi(["init", "x", "--dir", join(tmp, "y")], tmp);
    expect(misnamed.code).toBe(2);
    expect(misnamed.stderr).toMatch(/named after the applet/);
    const notEmpty = await mfi(["init", "keep"], tmp);
    expect(notEmpty.code).toBe(2);
    expect(notEmpty.stderr).toMatch(/not empty/);
  }, 240_000);

  it("says what to do when there is no applet (exit 2)", async () => {
    const r = await mfi(["test"], tmpdir());
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no applet.json/);
  }, 240_000);
});
