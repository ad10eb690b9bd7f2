/**
 * toolchain: what an applet developer's commands use around the runtime (public surface; other layers import only
 * this). The manifest (`applet.json`) and the applet folders, the asc compiler driver and the build cache, the test
 * harness (`runApplet`), the readings file format, the fixtures demo and the Wasm component export.
 *
 *   await buildApplets({ log: console.log });                       // build/applets/<name>.wasm, cached
 *   const result = await runApplet({ applet: "energy-sum", readings }); // validated, metered, run as in production
 */
export { CompileError, ManifestError } from "./errors.ts";
export { compileApplet, REPO_ROOT, ASCONFIG, type CompileOptions } from "./compile.ts";
export {
  loadAppletManifest,
  listApplets,
  appletEntryAt,
  manifestConfig,
  referenceClaims,
  manifestSchema,
  APPLETS_DIR,
  APPLET_BUILD_DIR,
  type AppletManifest,
  type AppletEntry,
  type Reducer,
} from "./applets.ts";
export { buildApplets } from "./build.ts";
export { runApplet, loadBuiltApplet, type RunAppletOptions, type AppletRunResult } from "./harness.ts";
export { parseReadingsJson, toJsonText, readingsFileSchema } from "./readings-json.ts";
export { runAppletFixtures, type DemoRun } from "./demo.ts";
export {
  componentize,
  adaptCoreModule,
  ComponentError,
  WIT_PATH,
  WIT_WORLD,
  HOST_INTERFACE,
  RUN_EXPORT,
} from "./component.ts";
export { componentHost, type AppletHostImports } from "./component-host.ts";
