/**
 * The `mfi` commands: one file per command in cli/commands/, each exporting `register(program)`.
 * From sources the list is the folder, read at each start, so a command added while you work is there at once. The
 * precompiled CLI (scripts/build-cli.mjs) replaces this file with a fixed list of imports, one chunk per command, and
 * a summary of every command (name, usage, description) so `mfi --help` loads none of them (as oclif's manifest does).
 */
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { Command } from "commander";

export interface CommandModule {
  register?: (program: Command) => void;
}

/** One line of `mfi --help`: the command's name, its usage term and its description. */
export interface CommandSummary {
  name: string;
  term: string;
  description: string;
}

const dir = join(dirname(fileURLToPath(import.meta.url)), "commands");

/** The command names, sorted (file names without `.ts`). */
export const commandNames: string[] = readdirSync(dir)
  .filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts"))
  .map((f) => f.slice(0, -3))
  .sort();

export async function importCommand(name: string): Promise<CommandModule> {
  return (await import(pathToFileURL(join(dir, `${name}.ts`)).href)) as CommandModule;
}

/** The summary written at build time; from sources there is none and `mfi --help` loads every command. */
export function readSummary(): CommandSummary[] | undefined {
  return undefined;
}
