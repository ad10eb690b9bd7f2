/**
 * Test helper: runs `mfi` commands in this process with their real actions, capturing console output and the exit
 * code. Spawning the binary costs seconds per call on two cores; tests that must prove the binary itself spawn it.
 */
import { Command } from "commander";
import { vi } from "vitest";

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Registers the given commands on a fresh program, parses `args` and returns what was printed and process.exitCode. */
export async function runInProcess(commands: ((program: Command) => void)[], args: string[]): Promise<CliResult> {
  const program = new Command("mfi").exitOverride();
  for (const register of commands) register(program);
  const out: string[] = [];
  const err: string[] = [];
  const log = vi.spyOn(console, "log").mockImplementation((...a: unknown[]) => void out.push(a.join(" ")));
  const error = vi.spyOn(console, "error").mockImplementation((...a: unknown[]) => void err.push(a.join(" ")));
  process.exitCode = undefined;
  try {
    await program.parseAsync(["node", "mfi", ...args]);
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
  const code = Number(process.exitCode ?? 0);
  process.exitCode = undefined;
  return { code, stdout: out.join("\n"), stderr: err.join("\n") };
}
