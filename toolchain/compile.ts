/**
 * Compiling AssemblyScript applets with asc (in-process, through its JS API) and the repository's asconfig.json,
 * so every applet gets the same float-free, start-free, memory-capped build. Used by toolchain/build.ts,
 * `mfi build` and runApplet({ source }).
 */
import { readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { CompileError } from "./errors.ts";

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const ASCONFIG = join(REPO_ROOT, "asconfig.json");
/** Where runApplet({ source }) pretends the source lives, so it imports the SDK as "../../sdk/assembly/index". */
const VIRTUAL_ENTRY = "applets/__source__/assembly/index.ts";
/** Holds the abort handler asconfig routes `abort` to; part of every build. */
const SDK_ABORT = "applets/sdk/assembly/abort.ts";

export interface CompileOptions {
  /** Path of the applet's entry file (e.g. applets/energy-sum/assembly/index.ts). */
  entry?: string;
  /** AssemblyScript source text (instead of entry). */
  source?: string;
  /** Also return the text format. */
  text?: boolean;
}

export async function compileApplet(opts: CompileOptions): Promise<{ wasm: Uint8Array; text?: string }> {
  if (!opts.entry === !opts.source) throw new CompileError("compileApplet needs exactly one of entry or source");
  const asc = (await import("assemblyscript/asc")).default;
  const entry = opts.entry ? relative(REPO_ROOT, resolve(opts.entry)) : VIRTUAL_ENTRY;
  let wasm: Uint8Array | undefined;
  let text: string | undefined;
  const errors: string[] = [];
  const args = [
    entry,
    SDK_ABORT,
    "--baseDir",
    REPO_ROOT,
    "--config",
    relative(REPO_ROOT, ASCONFIG),
    "--outFile",
    "out.wasm",
    ...(opts.text ? ["--textFile", "out.wat"] : []),
    "--noColors",
  ];
  const { error } = await asc.main(args, {
    readFile: (file: string, baseDir: string) => {
      const path = resolve(baseDir, file);
      if (opts.source !== undefined && path === resolve(REPO_ROOT, VIRTUAL_ENTRY)) return opts.source;
      try {
        return readFileSync(path, "utf8");
      } catch {
        return null;
      }
    },
    writeFile: (file: string, contents: Uint8Array | string) => {
      if (file.endsWith(".wasm")) wasm = contents as Uint8Array;
      else if (file.endsWith(".wat")) text = contents as string;
    },
    listFiles: () => [],
    stdout: { write: () => true } as never,
    stderr: { write: (s: string | Uint8Array) => (errors.push(String(s)), true) } as never,
  });
  // asc resolves relative to the process cwd, so it must run from the repository root.
  if (error || !wasm) {
    throw new CompileError(`asc could not compile ${opts.entry ?? "the applet source"}`, {
      details: errors.join("").trim() || error?.message,
      cause: error ?? undefined,
    });
  }
  return { wasm: new Uint8Array(wasm), text };
}
