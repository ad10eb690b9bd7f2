/**
 * The local test harness applet developers use from vitest:
 *   const result = await runApplet({ wasm | source | applet, readings, state?, fuel? })
 * It validates, meters and runs exactly as the production runtime does (same Engine, Module, Linker).
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { APPLETS_DIR, APPLET_BUILD_DIR, loadAppletManifest, manifestConfig } from "./applets.ts";
import { compileApplet } from "./compile.ts";
import { Engine, type EngineConfig } from "../runtime/index.ts";
import { RuntimeInputError } from "../runtime/index.ts";
import type { RunResult } from "../runtime/index.ts";
import { decodeJournal, type DecodedJournal } from "../runtime/index.ts";
import { runModule, type RunOptions } from "../runtime/index.ts";

export interface RunAppletOptions extends Omit<RunOptions, "input"> {
  /** Wasm bytes of the applet. */
  wasm?: Uint8Array;
  /** AssemblyScript source (compiled with the repository's asconfig; import the SDK as "../../sdk/assembly/index"). */
  source?: string;
  /** Name of an applet under applets/ (its built Wasm, and its manifest param as config unless config is given). */
  applet?: string;
  /** Engine to use (its Module cache makes repeated runs cheap); otherwise one shared default engine. */
  engine?: Engine;
  engineConfig?: EngineConfig;
}

export interface AppletRunResult extends RunResult {
  /** The journal, decoded (logs, records, claims). */
  decoded: DecodedJournal;
}

let sharedEngine: Engine | undefined;
const sourceCache = new Map<string, Uint8Array>();

export async function runApplet(opts: RunAppletOptions): Promise<AppletRunResult> {
  const given = [opts.wasm, opts.source, opts.applet].filter((x) => x !== undefined).length;
  if (given !== 1) throw new RuntimeInputError("runApplet needs exactly one of wasm, source or applet");
  const engine = opts.engine ?? (opts.engineConfig ? new Engine(opts.engineConfig) : (sharedEngine ??= new Engine()));
  let wasm = opts.wasm;
  let config = opts.config;
  if (opts.source !== undefined) {
    wasm = sourceCache.get(opts.source);
    if (!wasm) sourceCache.set(opts.source, (wasm = (await compileApplet({ source: opts.source })).wasm));
  }
  if (opts.applet !== undefined) {
    wasm = loadBuiltApplet(opts.applet);
    config ??= manifestConfig(loadAppletManifest(join(APPLETS_DIR, opts.applet)));
  }
  const module = engine.compile(wasm!);
  const result = runModule(engine, module, { ...opts, config });
  return { ...result, decoded: decodeJournal(result.journal) };
}

/** The built Wasm of applets/<name> (run `npm run build:applets` first; `npm test` does). */
export function loadBuiltApplet(name: string): Uint8Array {
  const file = join(APPLET_BUILD_DIR, `${name}.wasm`);
  if (!existsSync(file))
    throw new RuntimeInputError(`applet ${name} is not built (${file} is missing)`, {
      details: "run `npm run build:applets`",
    });
  return new Uint8Array(readFileSync(file));
}
