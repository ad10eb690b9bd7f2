/** `mfi build <applet>`: compile an applet under applets/ (or a folder with applet.json) to build/applets/<name>.wasm. */
import { readFileSync, writeFileSync } from "node:fs";
import { relative } from "node:path";
import type { Command } from "commander";
import { buildApplets } from "../../toolchain/index.ts";
import { RuntimeBaseError } from "../../runtime/index.ts";
import { componentize } from "../../toolchain/index.ts";

export function register(program: Command): void {
  program
    .command("build [applets...]")
    .description("compile applets (all by default) with asc into build/applets/<name>.wasm, cached by content hash")
    .option("--force", "rebuild even if the sources did not change")
    .option("--component", "also wrap each applet as a Wasm component (WIT world toolchain/wit/applet.wit) with jco: build/applets/<name>.component.wasm")
    .addHelpText("after", "\nExit codes: 0 built, 1 a compile or validation error.")
    .action(async (names: string[], opts: { force?: boolean; component?: boolean }) => {
      try {
        const built = await buildApplets({ names: names.map((n) => n.replace(/\/+$/, "").split("/").pop()!), force: opts.force, log: (m) => console.log(m) });
        if (names.length && built.length < names.length) throw new RuntimeBaseError(`unknown applet: ${names.join(", ")}`, { details: "applets live in applets/<name>/ with an applet.json" });
        if (opts.component) {
          for (const b of built) {
            const component = await componentize({ wasm: new Uint8Array(readFileSync(b.wasmPath)) });
            const out = b.wasmPath.replace(/\.wasm$/, ".component.wasm");
            writeFileSync(out, component);
            console.log(`component ${b.name}: ${relative(process.cwd(), out)} (${component.length} bytes, world mfi:applet/applet in toolchain/wit/applet.wit)`);
          }
        }
      } catch (err) {
        console.error((err as Error).message);
        process.exitCode = 1;
      }
    });
}
