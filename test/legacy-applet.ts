/**
 * An applet as manifests declared it before compiled applets, with a built-in `reducer`: an example applet's built
 * Wasm beside an applet.json naming the reducer, in a temporary folder, so tests can check receipts of the built-in
 * reducer circuits (`mfi prove --image-id --reducer`) with `mfi verify --applet` as before.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { APPLET_BUILD_DIR, APPLETS_DIR, type Reducer } from "../toolchain/index.ts";

export function legacyApplet(name: string, reducer: Reducer): string {
  const dir = join(mkdtempSync(join(tmpdir(), "mfi-legacy-applet-")), name);
  mkdirSync(dir);
  const manifest = JSON.parse(readFileSync(join(APPLETS_DIR, name, "applet.json"), "utf8")) as object;
  writeFileSync(join(dir, "applet.json"), JSON.stringify({ ...manifest, reducer }));
  copyFileSync(join(APPLET_BUILD_DIR, `${name}.wasm`), join(dir, `${name}.wasm`));
  return dir;
}
