// Is the precompiled CLI (build/cli/, from scripts/build-cli.mjs) the same program as the sources? Plain JavaScript:
// cli/bin.mjs asks before any TypeScript loader exists. Fresh means every source file in the bundle has the mtime and
// size recorded in build/cli/manifest.json (taken before the build started, so an edit during the build counts as a
// change) and cli/commands/ holds the same command files (a new command needs no import from an old file). About 200
// stats, a few ms. MFI_TSX=1 always answers no.
import { readFileSync, readdirSync, statSync } from "node:fs";

/** The command names as the build sees them: cli/commands/*.ts without tests, sorted. */
export function commandFiles(commandsDir) {
  return readdirSync(commandsDir)
    .filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts"))
    .map((f) => f.slice(0, -3))
    .sort();
}

/** `root` and `out` are file URLs ending in "/": the repository and the build (default build/cli/). */
export function precompiledIsFresh(root, out = new URL("build/cli/", root), env = process.env) {
  if (env.MFI_TSX === "1") return false;
  try {
    const manifest = JSON.parse(readFileSync(new URL("manifest.json", out), "utf8"));
    for (const [path, [mtimeMs, size]] of Object.entries(manifest.inputs)) {
      const s = statSync(new URL(path, root));
      if (s.mtimeMs !== mtimeMs || s.size !== size) return false;
    }
    return commandFiles(new URL("cli/commands/", root)).join("\n") === manifest.commands.join("\n");
  } catch {
    return false; // no build, or a source file gone
  }
}
