/** `mfi validate <applet.wasm>`: check an applet against the runtime's rules (docs/abi.md#validation) without running it. */
import { existsSync, readFileSync } from "node:fs";
import type { Command } from "commander";
import { Engine, ValidationError } from "../../runtime/index.ts";
import { toJsonText } from "../../toolchain/index.ts";

export function register(program: Command): void {
  program
    .command("validate <applet.wasm>")
    .description("validate and meter an applet's Wasm; print its imageId or the typed reason it is refused")
    .option("--memory-pages <n>", "engine memory cap in 64 KiB pages", (v) => Number.parseInt(v, 10))
    .option("--json", "print the result (or the typed error) as JSON")
    .addHelpText("after", "\nExit codes: 0 valid, 2 refused (ValidationError) or unreadable file.")
    .action((file: string, opts: { memoryPages?: number; json?: boolean }) => {
      if (!existsSync(file)) {
        console.error(`no such file: ${file}`);
        process.exitCode = 2;
        return;
      }
      try {
        const engine = new Engine({ memoryPages: opts.memoryPages });
        const m = engine.compile(new Uint8Array(readFileSync(file)));
        const out = {
          valid: true,
          imageId: m.imageId,
          bytes: m.wasm.length,
          meteredBytes: m.metered.length,
          memoryPages: { min: m.info.memoryMinPages, max: m.info.memoryMaxPages },
          importedFunctions: m.info.importedFunctions,
          hasInit: m.info.hasInit,
        };
        if (opts.json) console.log(toJsonText(out));
        else
          console.log(
            `valid applet ${file}\n  imageId ${m.imageId}\n  memory  ${m.info.memoryMinPages}..${m.info.memoryMaxPages} pages, ${m.info.importedFunctions} host imports`,
          );
      } catch (err) {
        if (opts.json)
          console.log(
            toJsonText({
              valid: false,
              error:
                err instanceof ValidationError
                  ? err.toJSON()
                  : { name: (err as Error).name, shortMessage: (err as Error).message },
            }),
          );
        else console.error((err as Error).message);
        process.exitCode = 2;
      }
    });
}
