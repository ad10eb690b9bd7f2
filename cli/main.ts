/**
 * `mfi`: one commander program; each command lives in cli/commands/<name>.ts and exports `register(program)`.
 * Exit codes: 0 ok, 1 failure (trap, mismatch, rejected claim), 2 bad usage or bad input file, 3 environment
 * (missing build, unreachable RPC). Documented in docs/cli.md.
 */
import { Command } from "commander";
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const program = new Command("mfi")
  .description("machinefi: build, run, prove and deploy applets; run the devnet")
  .showHelpAfterError("(run with --help for usage)");

const dir = join(dirname(fileURLToPath(import.meta.url)), "commands");
for (const f of ((all) => (all.includes(`${process.argv[2]}.ts`) ? [`${process.argv[2]}.ts`] : all))(
  readdirSync(dir)
    .filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts"))
    .sort(),
)) {
  // `mfi <cmd>` loads only cmd.ts (startup time)
  const mod = (await import(pathToFileURL(join(dir, f)).href)) as { register?: (p: Command) => void };
  mod.register?.(program);
}

await program.parseAsync(process.argv);
