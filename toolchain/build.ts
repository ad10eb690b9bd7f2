/**
 * Builds applets with asc: those under applets/ into build/applets/<name>.wasm, a project folder made by `mfi init`
 * into its own build/<name>.wasm. Cached by
 * a content hash of its sources, the SDK, asconfig.json and the asc version: an unchanged applet is not rebuilt.
 * Each build is checked by the runtime's validator so a float or a stray import fails here, not at deploy.
 * Run by scripts/build-applets.ts (npm run build:applets, postinstall), `mfi build` and the bench.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { APPLETS_DIR, appletEntryAt, listApplets } from "./applets.ts";
import { ASCONFIG, REPO_ROOT, compileApplet } from "./compile.ts";
import {
  DEFAULT_ENGINE_CONFIG,
  ValidationError,
  functionNamesFromText,
  validateModule,
  withSourceNames,
} from "../runtime/index.ts";

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .sort()
    .flatMap((f) => {
      const p = join(dir, f);
      return statSync(p).isDirectory() ? filesUnder(p) : [p];
    });
}

function sourceHash(appletDir: string): string {
  const h = createHash("sha256");
  const ascVersion = JSON.parse(readFileSync(join(REPO_ROOT, "node_modules/assemblyscript/package.json"), "utf8"))
    .version as string;
  h.update(`asc ${ascVersion}\n`);
  for (const f of [
    ASCONFIG,
    ...filesUnder(join(APPLETS_DIR, "sdk", "assembly")),
    ...filesUnder(join(appletDir, "assembly")),
  ]) {
    h.update(relative(REPO_ROOT, f) + "\n").update(readFileSync(f));
  }
  return h.digest("hex");
}

/**
 * Build (or reuse) applets: the named ones under applets/ (all of them when neither names nor dirs is given), and
 * project folders with an applet.json anywhere (`dirs`, built into <dir>/build/). Returns what happened to each.
 */
export async function buildApplets(
  opts: { names?: string[]; dirs?: string[]; force?: boolean; log?: (m: string) => void } = {},
): Promise<{ name: string; wasmPath: string; built: boolean }[]> {
  const log = opts.log ?? (() => {});
  const named =
    opts.dirs?.length && !opts.names?.length
      ? []
      : listApplets().filter((a) => !opts.names?.length || opts.names.includes(a.name));
  const out = [];
  for (const a of [...named, ...(opts.dirs ?? []).map((d) => appletEntryAt(resolve(d)))]) {
    const buildDir = dirname(a.wasmPath);
    mkdirSync(buildDir, { recursive: true });
    const hash = sourceHash(a.dir);
    const hashFile = join(buildDir, `${a.name}.hash`);
    if (!opts.force && existsSync(a.wasmPath) && existsSync(hashFile) && readFileSync(hashFile, "utf8") === hash) {
      log(`applet ${a.name}: up to date`);
      out.push({ name: a.name, wasmPath: a.wasmPath, built: false });
      continue;
    }
    const t0 = Date.now();
    const { wasm } = await compileApplet({ entry: a.entry });
    try {
      validateModule(wasm, { memoryCapPages: DEFAULT_ENGINE_CONFIG.memoryPages });
    } catch (err) {
      // A refusal inside a function: compile once more for the text format, whose names the binary does not keep,
      // so the message names the source function (the same compile gives the same function order).
      if (!(err instanceof ValidationError) || err.functionIndex === undefined) throw err;
      const { text } = await compileApplet({ entry: a.entry, text: true });
      throw withSourceNames(err, wasm, text ? functionNamesFromText(text) : undefined);
    }
    writeFileSync(a.wasmPath, wasm);
    writeFileSync(hashFile, hash);
    log(`applet ${a.name}: built ${relative(process.cwd(), a.wasmPath)} (${wasm.length} bytes, ${Date.now() - t0} ms)`);
    out.push({ name: a.name, wasmPath: a.wasmPath, built: true });
  }
  return out;
}
