/**
 * Applet folders and manifests: applets/<name>/applet.json names the applet and its reward (docs/abi.md#manifest);
 * what is proven is the applet's own Wasm, compiled into its circuit. The built Wasm lives in
 * build/applets/<name>.wasm (toolchain/build.ts).
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { z } from "zod";
import { REPO_ROOT } from "./compile.ts";
import { ManifestError } from "./errors.ts";
import { paramConfig, type AppletReading, type InputEpoch } from "../runtime/index.ts";
import { foldReducer } from "../core/index.ts";

export const APPLETS_DIR = join(REPO_ROOT, "applets");
export const APPLET_BUILD_DIR = join(REPO_ROOT, "build", "applets");

const decimal = z.string().regex(/^-?[0-9]+$/, "a decimal integer string");
export const manifestSchema = z.object({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, "lowercase letters, digits and dashes"),
  /** Ignored: applets are proven by their own compiled circuits (issue 18). Accepted so older manifests still load. */
  reducer: z.enum(["sum", "count_above", "max"]).optional(),
  /** The applet's config param (an i64 it reads with the SDK's param()): a public signal of its circuit. */
  param: decimal.optional(),
  rewardPerUnit: decimal,
  /**
   * Length of the applet's epochs, fixed on L1 at registration (default one hour, DEFAULT_EPOCH_LENGTH_MS): only
   * these windows are paid. A devnet's `--epoch-ms` overrides it for the devnet's own applets.
   */
  epochLengthMs: z
    .number()
    .int()
    .min(1)
    .max(2 ** 32 - 1)
    .optional(),
  description: z.string().optional(),
});
export type AppletManifest = z.infer<typeof manifestSchema>;
export type Reducer = NonNullable<AppletManifest["reducer"]>;

export interface AppletEntry {
  name: string;
  dir: string;
  manifest: AppletManifest;
  /** build/applets/<name>.wasm (exists after `npm run build:applets`). */
  wasmPath: string;
  /** The applet's entry source. */
  entry: string;
}

export function loadAppletManifest(dir: string): AppletManifest {
  const file = join(resolve(dir), "applet.json");
  if (!existsSync(file))
    throw new ManifestError(`no applet.json in ${dir}`, {
      details: "each applet folder holds applet.json: { name, rewardPerUnit, param?, epochLengthMs?, description? }",
    });
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    throw new ManifestError(`${file} is not valid JSON`, { cause: err });
  }
  const parsed = manifestSchema.safeParse(raw);
  if (!parsed.success)
    throw new ManifestError(`${file} is not a valid applet manifest`, {
      details: parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "),
    });
  if (parsed.data.name !== basename(resolve(dir)))
    throw new ManifestError(`${file}: name "${parsed.data.name}" must match the folder name`);
  return parsed.data;
}

/** The applet in a project folder outside applets/ (made by `mfi init`): it builds into <dir>/build/<name>.wasm. */
export function appletEntryAt(dir: string): AppletEntry {
  const manifest = loadAppletManifest(dir);
  return {
    name: manifest.name,
    dir,
    manifest,
    wasmPath: join(dir, "build", `${manifest.name}.wasm`),
    entry: join(dir, "assembly", "index.ts"),
  };
}

/** Every applet folder (one with applet.json and assembly/index.ts) under applets/, by name. */
export function listApplets(root: string = APPLETS_DIR): AppletEntry[] {
  return readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(root, d.name, "applet.json")))
    .map((d) => d.name)
    .sort()
    .map((name) => {
      const dir = join(root, name);
      return {
        name,
        dir,
        manifest: loadAppletManifest(dir),
        wasmPath: join(APPLET_BUILD_DIR, `${name}.wasm`),
        entry: join(dir, "assembly", "index.ts"),
      };
    });
}

/** The config blob an applet of this manifest receives (its param as one i64). */
export function manifestConfig(m: AppletManifest): Uint8Array {
  return paramConfig(m.param === undefined ? undefined : BigInt(m.param));
}

/**
 * The tier-1 reducer in plain TypeScript, over values[0] of each device's readings inside the epoch: what the
 * circuit proves and what the applet must claim. A device with no reading in the epoch has no claim.
 */
export function referenceClaims(
  reducer: Reducer | undefined,
  param: bigint | undefined,
  readings: readonly AppletReading[],
  epoch?: InputEpoch,
): Map<bigint, bigint> {
  if (reducer === undefined)
    throw new ManifestError("the manifest names no reducer to compare the applet's claims with", {
      details: "applets are proven by their own compiled circuits; a reducer is only a reference for old manifests",
    });
  const byDevice = new Map<bigint, bigint[]>();
  for (const r of readings) {
    if (epoch && (r.ts < epoch.startMs || r.ts >= epoch.startMs + epoch.lengthMs)) continue;
    const list = byDevice.get(r.deviceId) ?? byDevice.set(r.deviceId, []).get(r.deviceId)!;
    list.push(r.values[0] ?? 0n);
  }
  // One definition with the circuits (reducers.ts); the applet's output is a u64, so the sum wraps as it does.
  return new Map([...byDevice].map(([id, values]) => [id, BigInt.asUintN(64, foldReducer(reducer, param, values))]));
}
