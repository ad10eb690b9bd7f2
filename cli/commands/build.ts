/**
 * `mfi build [applets...]`: compile applets under applets/ (by name) to build/applets/<name>.wasm, or a project
 * folder with an applet.json (made by `mfi init`) to <folder>/build/<name>.wasm.
 */
import { exitCodeOf } from "../errors.ts";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import type { Command } from "commander";
import { RuntimeBaseError } from "../../runtime/index.ts";
import { buildApplets, componentize, listApplets } from "../../toolchain/index.ts";

export function register(program: Command): void {
  program
    .command("build [applets...]")
    .description(
      "compile applets with asc, cached by content hash: names under applets/ (all by default) into build/applets/<name>.wasm, a project folder with applet.json into <folder>/build/<name>.wasm",
    )
    .option("--force", "rebuild even if the sources did not change")
    .option(
      "--component",
      "also wrap each applet as a Wasm component (WIT world toolchain/wit/applet.wit) with jco: build/applets/<name>.component.wasm",
    )
    .addHelpText("after", "\nExit codes: 0 built, 1 a compile or validation error.")
    .action(async (names: string[], opts: { force?: boolean; component?: boolean }) => {
      try {
        const dirs = names.filter((n) => existsSync(join(n, "applet.json")));
        const known = new Set(listApplets().map((a) => a.name));
        const unknown = names.filter((n) => !dirs.includes(n) && !known.has(n));
        if (unknown.length) {
          throw new RuntimeBaseError(`unknown applet: ${unknown.join(", ")}`, {
            details: `name an applet under applets/ (${[...known].join(", ")}) or a folder with an applet.json`,
          });
        }
        const built = await buildApplets({
          names: names.filter((n) => !dirs.includes(n)),
          dirs,
          force: opts.force,
          log: (m) => console.log(m),
        });
        if (opts.component) {
          for (const b of built) {
            const component = await componentize({ wasm: new Uint8Array(readFileSync(b.wasmPath)) });
            const out = b.wasmPath.replace(/\.wasm$/, ".component.wasm");
            writeFileSync(out, component);
            console.log(
              `component ${b.name}: ${relative(process.cwd(), out)} (${component.length} bytes, world mfi:applet/applet in toolchain/wit/applet.wit)`,
            );
          }
        }
      } catch (err) {
        console.error((err as Error).message);
        process.exitCode = exitCodeOf(err); // a refused module 2, a compile error 3 (docs/cli.md)
      }
    });
}
