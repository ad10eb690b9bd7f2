/**
 * `npm start` (`mfi devnet`) through the real binary, the way a new user runs it: build, up, readings in, claims paid,
 * then Ctrl-C. With --mock-proofs the build skips the trusted setups and the provers (issue 21): only the applets'
 * witness calculators are built, and claims are still paid through MockVerifier. A terminal's Ctrl-C signals the whole foreground process group (provers and, before it had a group of its
 * own, anvil too), so the test signals the group, not just the process, while claims are being submitted.
 */
import { spawn } from "node:child_process";
import { afterAll, describe, expect, it } from "vitest";
import { mfiBin } from "./helpers.ts";

let pgid: number | undefined;
afterAll(() => {
  if (pgid) {
    try {
      process.kill(-pgid, "SIGKILL");
    } catch {
      // already gone
    }
  }
});

describe("mfi devnet (npm start)", () => {
  it("runs the pipeline to paid claims and stops cleanly on Ctrl-C to its process group, chain included", async () => {
    const env = {
      ...process.env,
      MFI_DEVICES: "4",
      MFI_READINGS_PER_SECOND: "4",
      MFI_BATCH_SIZE: "2",
      MFI_EPOCH_MS: "2000",
      MFI_EPOCH_GRACE_MS: "300",
    };
    const child = spawn(process.execPath, [mfiBin, "devnet", "--mock-proofs"], {
      env,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    pgid = child.pid;
    let out = "";
    let err = "";
    child.stdout.on("data", (b: Buffer) => (out += b.toString()));
    child.stderr.on("data", (b: Buffer) => (err += b.toString()));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    const until = async (re: RegExp, ms: number) => {
      const t0 = Date.now();
      while (!re.test(out)) {
        if (Date.now() - t0 > ms || child.exitCode !== null)
          throw new Error(`no ${re} within ${ms} ms\n--- stdout\n${out.slice(-3000)}\n--- stderr\n${err.slice(-3000)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    await until(/machinefi devnet is up/, 240_000);
    // The build ran without any trusted setup: the setup steps were skipped, the applet circuits built witness only.
    const build = out.slice(0, out.indexOf("machinefi devnet is up"));
    expect(build).toMatch(/skipped build-circuits\.ts: the generic circuits' trusted setup/);
    expect(build).toMatch(/skipped build-native\.mjs/);
    expect(build).toMatch(/✓ energy-sum K=16: witness calculator/);
    expect(build).not.toMatch(/setup points|dev setup|circuits ready in|cache hit/);
    expect(out).toMatch(/devnet is up \(.*without trusted setup \(mock proofs\)/);
    const rpc = /chain \(anvil\)\s+(http:\/\/\S+)/.exec(out)![1]!;
    // Wait for the second paid claim: submissions are then under way every tick, so Ctrl-C lands among them.
    await until(/claim \d+ paid:[\s\S]*claim \d+ paid:/, 120_000);
    process.kill(-child.pid!, "SIGINT");
    const code = await exited;
    pgid = undefined;
    expect(err, err).not.toMatch(/Unhandled|ECONNREFUSED|ECONNRESET|node:internal/);
    expect(out).toContain("stopped cleanly.");
    expect(code, `${out.slice(-2000)}\n${err}`).toBe(0);
    // The chain went down with it (last, after the worker's transactions), not left running.
    const alive = await fetch(rpc, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}',
    }).then(
      () => true,
      () => false,
    );
    expect(alive).toBe(false);
  }, 420_000);
});
