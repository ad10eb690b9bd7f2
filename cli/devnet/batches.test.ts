/**
 * `mfi devnet --batch <n>` refusals, before anything starts (the batch path itself runs through the real worker in
 * worker/batcher.test.ts: real anvil, real batch proofs).
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = (args: string[]) =>
  promisify(execFile)(process.execPath, ["cli/bin.mjs", "devnet", "--no-build", ...args], {
    cwd: join(import.meta.dirname, "..", ".."),
  });

describe("mfi devnet --batch", () => {
  it("refuses a batch size outside 1..64 and mock proofs with exit 2, and --help names it", async () => {
    await expect(run(["--batch", "0"])).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/--batch takes a whole number of devices from 1 to 64, got 0/),
    });
    await expect(run(["--batch", "2", "--mock-proofs"])).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/--batch makes real batch proofs: drop --mock-proofs/),
    });
    const { stdout } = await run(["--help"]);
    expect(stdout).toMatch(/--batch <n>/);
  }, 120_000);
});
