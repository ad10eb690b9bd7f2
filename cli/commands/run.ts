/** `mfi run <applet.wasm> --readings <file.json>`: run an applet locally, exactly as the network runs it. */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import type { Command } from "commander";
import {
  Engine,
  RuntimeBaseError,
  ValidationError,
  decodeJournal,
  paramConfig,
  runModule,
  type AppletState,
} from "../../runtime/index.ts";
import {
  APPLETS_DIR,
  loadAppletManifest,
  manifestConfig,
  parseReadingsJson,
  toJsonText,
} from "../../toolchain/index.ts";

interface RunFlags {
  readings: string;
  fuel?: string;
  json?: boolean;
  param?: string;
  epochStart?: string;
  epochLength?: string;
  state?: string;
  stateOut?: string;
}

export function register(program: Command): void {
  program
    .command("run <applet.wasm>")
    .description("run an applet over a readings file and print its journal, claims, fuel and digests")
    .requiredOption(
      "--readings <file.json>",
      "array of { deviceId, seq, ts, values } (integers as decimal strings or numbers)",
    )
    .option("--fuel <n>", "fuel for this run (1 to 2^49 - 1; default: the engine's 100,000,000)")
    .option("--param <n>", "the config param (e.g. threshold); default: the manifest's, for build/applets/<name>.wasm")
    .option("--epoch-start <ms>", "epoch start (Unix ms); default: all readings are in the epoch")
    .option("--epoch-length <ms>", "epoch length in ms (with --epoch-start)")
    .option("--state <file.json>", "state carried from the previous epoch (the `state` of an earlier --json result)")
    .option("--state-out <file.json>", "write the state after the run here")
    .option("--json", "print the run result (or the typed error) as JSON")
    .addHelpText("after", "\nExit codes: 0 ran, 1 the run trapped, 2 refused module or bad input file.")
    .action((file: string, flags: RunFlags) => {
      const fail = (err: unknown, code: number) => {
        if (flags.json)
          console.log(
            toJsonText({
              error:
                err instanceof RuntimeBaseError
                  ? err.toJSON()
                  : { name: (err as Error).name, shortMessage: (err as Error).message },
            }),
          );
        else console.error((err as Error).message);
        process.exitCode = code;
      };
      let wasm: Uint8Array, readings, config: Uint8Array, state: AppletState | undefined, epoch;
      try {
        if (!existsSync(file))
          throw new RuntimeBaseError(`no such file: ${file}`, {
            details: "build applets with `mfi build <name>` or `npm run build:applets`",
          });
        if (!existsSync(flags.readings)) throw new RuntimeBaseError(`no such readings file: ${flags.readings}`);
        wasm = new Uint8Array(readFileSync(file));
        readings = parseReadingsJson(readFileSync(flags.readings, "utf8"), flags.readings);
        config = flags.param !== undefined ? paramConfig(BigInt(flags.param)) : defaultConfig(file);
        state = flags.state ? (JSON.parse(readFileSync(flags.state, "utf8")) as AppletState) : undefined;
        if (flags.epochStart !== undefined)
          epoch = { startMs: BigInt(flags.epochStart), lengthMs: BigInt(flags.epochLength ?? "86400000") };
      } catch (err) {
        return fail(err, 2);
      }
      let result;
      try {
        const engine = new Engine();
        result = runModule(engine, engine.compile(wasm), {
          readings,
          config,
          state,
          epoch,
          fuel: flags.fuel ? Number(flags.fuel) : undefined,
        });
      } catch (err) {
        return fail(err, err instanceof ValidationError || err instanceof RuntimeBaseError ? 2 : 1);
      }
      const decoded = decodeJournal(result.journal);
      if (flags.stateOut) writeFileSync(flags.stateOut, JSON.stringify(result.state, null, 2) + "\n");
      if (flags.json) console.log(toJsonText({ ...result, decoded }));
      else {
        console.log(`${basename(file)}  imageId ${result.imageId}`);
        console.log(
          `  fuel ${result.fuelUsed}${result.trap ? `  TRAP ${result.trap.kind}: ${result.trap.message}` : ""}`,
        );
        for (const c of decoded.claims) console.log(`  claim  device ${c.deviceId} output ${c.output}`);
        for (const l of decoded.logs) console.log(`  log    ${l}`);
        for (const r of decoded.records) console.log(`  record ${new TextDecoder().decode(r)}`);
        console.log(
          `  input ${result.inputDigest}\n  journal ${result.journalDigest}\n  stateRoot ${result.stateRoot}`,
        );
      }
      if (result.trap) process.exitCode = 1;
    });
}

/** For build/applets/<name>.wasm of an applet in applets/, its manifest param; otherwise no config. */
function defaultConfig(file: string): Uint8Array {
  const name = basename(file).replace(/\.wasm$/, "");
  const dir = join(APPLETS_DIR, name);
  return existsSync(join(dir, "applet.json")) ? manifestConfig(loadAppletManifest(dir)) : new Uint8Array(0);
}
