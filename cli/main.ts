/**
 * `mfi`: one commander program; each command lives in cli/commands/<name>.ts and exports `register(program)`.
 * Exit codes: one table in cli/errors.ts (`exitCodeOf`), documented in docs/cli.md.
 */
import { Command, CommanderError } from "commander";
import { writeFileSync } from "node:fs";
import { commandNames, importCommand, readSummary, type CommandSummary } from "./command-list.ts";

const program = new Command("mfi")
  .description("machinefi: build, run, prove and deploy applets; run the devnet")
  .showHelpAfterError("(run with --help for usage)")
  // Commander's own refusals (unknown option or command, missing argument) throw instead of exiting 1, so they get
  // the table's code for bad usage below; subcommands inherit this when they are created.
  .exitOverride();

const args = process.argv.slice(2);
const topLevelHelp = args.length === 0 || (args.length === 1 && ["--help", "-h", "help"].includes(args[0]!));
const summary = topLevelHelp ? readSummary() : undefined;
if (summary) {
  // The precompiled CLI's `mfi --help`: the same lines, without loading any command (startup time).
  const terms = new Map(summary.map((c) => [c.name, c.term]));
  for (const c of summary) if (c.name !== "help") program.command(c.name).description(c.description);
  program.configureHelp({ subcommandTerm: (cmd) => terms.get(cmd.name()) ?? cmd.name() });
} else {
  // `mfi <cmd>` loads only cmd (startup time); `mfi --help` from sources loads them all.
  const asked = args[0];
  for (const name of asked && commandNames.includes(asked) ? [asked] : commandNames) {
    (await importCommand(name)).register?.(program);
  }
}

const summaryFile = process.env.MFI_WRITE_COMMAND_SUMMARY; // set by scripts/build-cli.mjs only
if (summaryFile) {
  const help = program.createHelp();
  const lines: CommandSummary[] = help
    .visibleCommands(program)
    .map((c) => ({ name: c.name(), term: help.subcommandTerm(c), description: help.subcommandDescription(c) }));
  writeFileSync(summaryFile, JSON.stringify(lines, null, 2) + "\n");
} else {
  try {
    await program.parseAsync(process.argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // commander's own exits (help 0, bad usage 2; it printed why), as exitCodeOf maps them, without loading the
      // table: it imports every layer's errors, which `mfi --help` must not wait for.
      process.exitCode = err.exitCode === 0 ? 0 : 2;
    } else {
      const { exitCodeOf } = await import("./errors.ts");
      process.exitCode = exitCodeOf(err);
      // What went wrong and what to do, never a stack trace (MFI_DEBUG=1 prints it).
      console.error(process.env.MFI_DEBUG === "1" ? err : `error: ${(err as Error)?.message ?? String(err)}`);
    }
  }
}
