import { describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { join } from "node:path";

const root = join(import.meta.dirname, "..");
const run = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  promisify(execFile)(process.execPath, ["cli/bin.mjs", "worker", ...args], {
    cwd: root,
    env: { ...process.env, MFI_RPC_URL: "", MFI_PRIVATE_KEY: "", MFI_WORKER_DB: "", ...env },
  });

describe("mfi worker scheduler | runner | prover | submitter", () => {
  it("--help on each names --db, the queue's settings and the exit codes", async () => {
    for (const [role, extra] of [
      ["scheduler", ["--epoch-ms", "leader lock", "standby", "--run-timeout-s", "run job"]],
      ["runner", ["--runs", "--run-timeout-s", "one transaction", "run-job", "--rpc", "nothing is sent"]],
      ["prover", ["--provers", "--mock-proofs", "--job-timeout-s"]],
      ["submitter", ["--rpc", "MFI_PRIVATE_KEY", "nonce"]],
    ] as const) {
      const { stdout } = await run([role, "--help"]);
      for (const s of ["--db", "--job-timeout-s", "--retry-limit", "MFI_WORKER_DB", "Exit codes", ...extra])
        expect(stdout).toContain(s);
    }
  });

  it("refuses a missing or SQLite database, bad numbers and a submitter without chain or key, with exit 2", async () => {
    const pgUrl = "postgres://127.0.0.1:1/x";
    const cases: [string[], NodeJS.ProcessEnv, RegExp][] = [
      [["prover"], {}, /no database: pass --db postgres/],
      [["scheduler", "--db", "sqlite:.mfi/x.sqlite"], {}, /needs a postgres:\/\/ database.*mfi worker start/],
      [["prover", "--db", "/tmp/x.sqlite"], {}, /needs a postgres:\/\/ database/],
      [["prover", "--db", pgUrl, "--provers", "0"], {}, /--provers takes a whole number ≥ 1/],
      [["runner"], {}, /no database: pass --db postgres/],
      [["runner", "--db", "sqlite:.mfi/x.sqlite"], {}, /needs a postgres:\/\/ database/],
      [["runner", "--db", pgUrl, "--runs", "0"], {}, /--runs takes a whole number ≥ 1/],
      [["scheduler", "--db", pgUrl, "--run-timeout-s", "0"], {}, /--run-timeout-s takes a whole number ≥ 1/],
      [["runner", "--db", pgUrl, "--rpc", "ws://x"], {}, /--rpc must be an http\(s\) URL/],
      [["scheduler", "--db", pgUrl, "--job-timeout-s", "x"], {}, /--job-timeout-s takes a whole number/],
      [["submitter", "--db", pgUrl], { MFI_PRIVATE_KEY: "0x" + "ac".repeat(32) }, /no chain: pass --rpc/],
      [["submitter", "--db", pgUrl, "--rpc", "http://127.0.0.1:1"], {}, /MFI_PRIVATE_KEY/],
    ];
    await Promise.all(
      cases.map(async ([args, env, stderr]) => {
        await expect(run(args, env)).rejects.toMatchObject({ code: 2, stderr: expect.stringMatching(stderr) });
      }),
    );
  });
});
