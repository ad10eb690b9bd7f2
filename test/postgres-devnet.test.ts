/**
 * `npm start -- --db postgres` (issue 23) through the real binary: an embedded Postgres, anvil, 2 gateways, the
 * scheduler, a runner, 2 provers and the submitter as separate processes, the fleet split between the gateways; claims are paid
 * on anvil (mock proofs keep it lean), then Ctrl-C to the whole process group, as a terminal sends it: the devnet
 * stops every process in order and none is left running, Postgres and the chain included.
 */
import { spawn } from "node:child_process";
import { afterAll, describe, expect, it } from "vitest";
import { isRunning } from "../cli/devnet/postgres-procs.ts";
import { mfi, mfiBin } from "./helpers.ts";

let pgid: number | undefined;
const pids: number[] = [];
afterAll(() => {
  for (const p of [pgid, ...pids]) {
    if (!p) continue;
    try {
      process.kill(p === pgid ? -p : p, "SIGKILL");
    } catch {
      // already gone
    }
  }
});

describe("mfi devnet --db postgres", () => {
  it("runs the multi-process layout to paid claims and stops with nothing left running", async () => {
    const env = {
      ...process.env,
      MFI_DEVICES: "2",
      MFI_READINGS_PER_SECOND: "2",
      MFI_BATCH_SIZE: "2",
      MFI_EPOCH_MS: "3000",
      MFI_EPOCH_GRACE_MS: "300",
    };
    const child = spawn(process.execPath, [mfiBin, "devnet", "--db", "postgres", "--mock-proofs"], {
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
    // what the roles said, errors first (the summary lines crowd them out of the tail)
    const roleLines = () =>
      out
        .split("\n")
        .filter((l) => /✗|⚠|\[(scheduler|runner|submitter|prover-\d|gateway-\d)\]/.test(l))
        .slice(0, 40)
        .join("\n");
    const until = async (re: RegExp, ms: number) => {
      const t0 = Date.now();
      while (!re.test(out)) {
        if (Date.now() - t0 > ms || child.exitCode !== null)
          throw new Error(
            `no ${re} within ${ms} ms\n--- roles\n${roleLines()}\n--- stdout\n${out.slice(-3000)}\n--- stderr\n${err.slice(-3000)}`,
          );
        await new Promise((r) => setTimeout(r, 200));
      }
    };
    await until(/machinefi devnet is up/, 360_000);
    const listed = /processes\s+(.*)/.exec(out)![1]!;
    for (const m of listed.matchAll(/(\S+) (\d+)/g)) pids.push(Number(m[2]));
    for (const name of [
      "postgres",
      "submitter",
      "prover-1",
      "prover-2",
      "runner",
      "scheduler",
      "gateway-1",
      "gateway-2",
    ])
      expect(listed).toContain(`${name} `);
    expect(out).toMatch(/gateways\s+http:\/\/\S+\s+http:\/\/\S+/);
    const rpc = /chain \(anvil\)\s+(http:\/\/\S+)/.exec(out)![1]!;
    // Runs stored by the runner process, claims proved by either prover process and paid by the submitter process.
    await until(/\[prover-\d\] .*proved[\s\S]*\[submitter\] .*paid:[\s\S]*\[submitter\] .*paid:/, 240_000);
    expect(out).toMatch(/\[runner\] ▶ run \d+:/);
    expect(out).not.toMatch(/\[scheduler\] . run \d+:/);
    expect(pids.every(isRunning)).toBe(true);
    process.kill(-child.pid!, "SIGINT");
    const code = await exited;
    pgid = undefined;
    expect(out, err).toContain("stopped cleanly: no process left.");
    expect(code, `${out.slice(-3000)}\n${err}`).toBe(0);
    // Postgres went down last: no role complained of a database shutting down under it.
    expect(out).not.toMatch(/shutting down|administrator command/);
    expect(pids.filter(isRunning)).toEqual([]);
    const alive = await fetch(rpc, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}',
    }).then(
      () => true,
      () => false,
    );
    expect(alive).toBe(false);
  }, 600_000);

  it("refuses what the layout does not take, before building anything (exit 2)", async () => {
    const env = { MFI_STATE_DIR: "" };
    const bad = await mfi(["devnet", "--db", "mysql://x", "--no-build"], { env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--db takes postgres (an embedded server) or a postgres:// URL, got mysql://x");
    const batch = await mfi(["devnet", "--db", "postgres", "--batch", "2"], { env });
    expect(batch.code).toBe(2);
    expect(batch.stderr).toContain("--batch runs in the single-process devnet only");
    const state = await mfi(["devnet", "--db", "postgres", "--state", "/tmp/x"], { env });
    expect(state.code).toBe(2);
    expect(state.stderr).toContain("throwaway layout: drop --state");
  }, 120_000);
});
