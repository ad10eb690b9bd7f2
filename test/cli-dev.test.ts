/**
 * `mfi dev` through the real binary: a devnet with a scaffolded applet under watch; a save re-registers a new imageId
 * (the old one stays), a broken save keeps the previous version, Ctrl-C stops cleanly (exit 0). MockVerifier proofs.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { scaffold } from "../cli/commands/init.ts";
import { mfi, mfiBin, waitFor } from "./helpers.ts";

const tmp = mkdtempSync(join(tmpdir(), "mfi-dev-"));
let child: ChildProcess | undefined;
afterAll(() => {
  if (child && child.exitCode === null) child.kill("SIGKILL");
  rmSync(tmp, { recursive: true, force: true });
});

describe("mfi dev", () => {
  it("registers the applet, re-registers it on save, survives a broken save and stops on SIGINT", async () => {
    const dir = join(tmp, "dev-probe");
    scaffold({ name: "dev-probe", dir });
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("MFI_")));
    child = spawn(process.execPath, [mfiBin, "dev", dir, "--mock-proofs", "--no-simulate", "--port", "0"], {
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout!.on("data", (b) => (out += b));
    child.stderr!.on("data", (b) => (err += b));
    const exited = new Promise<number | null>((r) => child!.once("exit", (code) => r(code)));
    const until = (re: RegExp, ms: number) =>
      waitFor(() => re.test(out) || child!.exitCode !== null, ms, 100).then(() =>
        expect(out, `${out}\n${err}`).toMatch(re),
      );
    const registered = () =>
      [...out.matchAll(/applet dev-probe registered on L1: imageId ([0-9a-f]{16})/g)].map((m) => m[1]);

    await until(/\[dev\] watching /, 150_000);
    expect(out).toMatch(/\[dev\] dashboard http:\/\/127\.0\.0\.1:\d+\/dashboard/);
    expect(registered()).toHaveLength(1);

    // A real change to the applet: its Wasm (and so its imageId) changes.
    const src = join(dir, "assembly", "index.ts");
    const code = readFileSync(src, "utf8");
    writeFileSync(src, code.replace('" claims over "', '" claim(s) over "'));
    await until(/\[dev\] rebuilt: imageId [0-9a-f]{16}/, 120_000);
    const ids = registered();
    expect(ids).toHaveLength(2);
    expect(ids[1]).not.toBe(ids[0]);

    // `sed -i` replaces the file (a new inode), as editors' safe-write does: the watcher still sees it, and the
    // save after it.
    expect(spawnSync("sed", ["-i", 's/" claim(s) over "/" claims seen over "/', src]).status).toBe(0);
    await waitFor(() => registered().length === 3 || child!.exitCode !== null, 120_000, 100);
    expect(registered(), out).toHaveLength(3);

    writeFileSync(
      src,
      code.replace(
        "export function mfi_main(): void {",
        "export function mfi_main(): void { this is not AssemblyScript",
      ),
    );
    await until(/\[dev\] build failed, keeping the previous version/, 120_000);

    child.kill("SIGINT");
    expect(await exited).toBe(0);
    expect(out).toMatch(/\[dev\] stopping/);
  }, 400_000);

  it("says there is no applet (exit 2)", async () => {
    const r = await mfi(["dev", join(tmp, "nothing-here")]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/applet\.json/);
  }, 120_000);
});
