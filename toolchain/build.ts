/**
 * Builds every applet under applets/ (folders with applet.json) with asc into build/applets/<name>.wasm, cached by
 * a content hash of its sources, the SDK, asconfig.json and the asc version: an unchanged applet is not rebuilt.
 * Each build is checked by the runtime's validator so a float or a stray import fails here, not at deploy.
 * Run by scripts/build-applets.ts (npm run build:applets, postinstall), `mfi build` and the bench.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { APPLETS_DIR, APPLET_BUILD_DIR, listApplets } from "./applets.ts";
import { ASCONFIG, REPO_ROOT, compileApplet } from "./compile.ts";
import { DEFAULT_ENGINE_CONFIG } from "../runtime/index.ts";
import { validateModule } from "../runtime/index.ts";

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
  const ascVersion = JSON.parse(readFileSync(join(REPO_ROOT, "node_modules/assemblyscript/package.json"), "utf8")).version as string;
  h.update(`asc ${ascVersion}\n`);
  for (const f of [ASCONFIG, ...filesUnder(join(APPLETS_DIR, "sdk", "assembly")), ...filesUnder(join(appletDir, "assembly"))]) {
    h.update(relative(REPO_ROOT, f) + "\n").update(readFileSync(f));
  }
  return h.digest("hex");
}

/** Build (or reuse) the named applets (all by default). Returns what happened to each. */
export async function buildApplets(opts: { names?: string[]; force?: boolean; log?: (m: string) => void } = {}): Promise<{ name: string; wasmPath: string; built: boolean }[]> {
  const log = opts.log ?? (() => {});
  mkdirSync(APPLET_BUILD_DIR, { recursive: true });
  const out = [];
  for (const a of listApplets()) {
    if (opts.names?.length && !opts.names.includes(a.name)) continue;
    const hash = sourceHash(a.dir);
    const hashFile = join(APPLET_BUILD_DIR, `${a.name}.hash`);
    if (!opts.force && existsSync(a.wasmPath) && existsSync(hashFile) && readFileSync(hashFile, "utf8") === hash) {
      log(`applet ${a.name}: up to date`);
      out.push({ name: a.name, wasmPath: a.wasmPath, built: false });
      continue;
    }
    const t0 = Date.now();
    const { wasm } = await compileApplet({ entry: a.entry });
    validateModule(wasm, { memoryCapPages: DEFAULT_ENGINE_CONFIG.memoryPages });
    writeFileSync(a.wasmPath, wasm);
    writeFileSync(hashFile, hash);
    log(`applet ${a.name}: built ${relative(REPO_ROOT, a.wasmPath)} (${wasm.length} bytes, ${Date.now() - t0} ms)`);
    out.push({ name: a.name, wasmPath: a.wasmPath, built: true });
  }
  return out;
}
