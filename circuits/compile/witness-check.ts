/**
 * A claim checked as a proof checks it, without the Groth16 step: the applet's compiled main for K gets the same
 * witness input the prover would, and circom's own witness calculator must satisfy every constraint (signature,
 * chain links and epoch cover, value ranges, the applet's computation, output = claim). `--mock-proofs` runs this so
 * that mock and real proofs refuse the same claims; only the proof itself (seconds per claim) is skipped.
 *
 * The witness Wasm is the real circuit's when its keys are already built (build/applet-circuits/, same cache key),
 * else circom2 alone compiles the main (build/compile/, no trusted setup).
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { deviceIdOf, imageIdToField, packEpoch, type EpochWindow, type PublicKey } from "../../device-sdk/index.ts";
import { imageIdOf } from "../../runtime/index.ts";
import { InvalidProveOptionsError, ProvingError, TooManyReadingsError } from "../errors.ts";
import { cacheKey } from "../setup/build.ts";
import { R } from "../setup/field.ts";
import { readingsInput, selectSegment, type ChainReading } from "../witness.ts";
import { buildCircom, computeWitness, type CircomBuild } from "./circom-run.ts";
import { compileApplet } from "./index.ts";
import { APPLET_CIRCUITS_DIR } from "./keys.ts";

export interface CheckAppletClaimOptions {
  wasm: Uint8Array;
  k: number;
  param?: bigint;
  readings: readonly ChainReading[];
  devicePublicKey: PublicKey;
  epoch: EpochWindow;
  /** The claimed output: the witness exists only when the applet computes exactly this. */
  output: bigint;
  /** Progress of a first circom compile of the applet's main (tens of seconds). */
  log?: (m: string) => void;
}

const builds = new Map<string, Promise<CircomBuild>>();

/**
 * The witness calculator of the applet's main for K (NotProvableError when the compiler cannot express it): the keyed
 * circuit's when built, else circom2 alone (cached under build/compile/). `npm run build -- --mock-proofs` builds these.
 */
export function witnessBuild(
  wasm: Uint8Array,
  k: number,
  hasParam: boolean,
  log: (m: string) => void,
): Promise<CircomBuild> {
  const compiled = compileApplet({ wasm, k, hasParam });
  const key = cacheKey({ main: compiled.main });
  let b = builds.get(key);
  if (!b) {
    const dir = join(APPLET_CIRCUITS_DIR, key.slice(0, 24));
    const keyed = { dir, wasm: join(dir, "applet_js", "applet.wasm"), r1cs: join(dir, "applet.r1cs"), constraints: 0 };
    if (existsSync(join(dir, "manifest.json")) && existsSync(keyed.wasm)) b = Promise.resolve(keyed);
    else {
      log(`… applet ${compiled.imageId.slice(0, 12)}: compiling its circuit's witness calculator at K=${k} (no setup)`);
      b = buildCircom(compiled.main);
    }
    builds.set(key, b);
    b.catch(() => builds.delete(key));
  }
  return b;
}

/**
 * Resolves when a proof of the claim would exist; throws what proving would: NotProvableError, TooManyReadingsError,
 * SegmentError, InvalidProveOptionsError (a negative values[0]), or ProvingError when the circuit has no witness.
 */
export async function checkAppletClaim(o: CheckAppletClaimOptions): Promise<void> {
  const segment = selectSegment(o.readings, o.devicePublicKey, o.epoch);
  if (segment.slots.length > o.k)
    throw new TooManyReadingsError(`the segment needs ${segment.slots.length} slots but K = ${o.k}`);
  const negative = segment.slots.slice(0, segment.insideCount).find((r) => r.values[0]! < 0n);
  if (negative)
    throw new InvalidProveOptionsError(
      `reading seq ${negative.seq} has values[0] = ${negative.values[0]} < 0: compiled circuits prove values[0] in [0, 2^63) only`,
      {
        details: "keep values[0] non-negative (offset it on the device, e.g. temperature + 2730), or use values[1..3]",
      },
    );
  const build = await witnessBuild(o.wasm, o.k, o.param !== undefined, o.log ?? (() => {}));
  const input = readingsInput({
    segment,
    k: o.k,
    publicKey: o.devicePublicKey,
    imageIdField: imageIdToField(imageIdOf(o.wasm)),
    epoch: packEpoch(o.epoch),
    output: o.output,
  });
  if (o.param !== undefined) input.param = (((o.param % R) + R) % R).toString();
  try {
    await computeWitness(build, input);
  } catch (err) {
    const first = String((err as Error).message ?? err).split("\n")[0];
    throw new ProvingError(
      `no proof exists for output ${o.output} of device ${deviceIdOf(o.devicePublicKey)}: the circuit's constraints fail (${first})`,
      {
        details: "the applet's compiled circuit refuses this claim on these signed readings; a real proof would too",
        cause: err,
      },
    );
  }
}
