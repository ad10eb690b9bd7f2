/**
 * Does the compiled claim circuit compute what the runtime claims, on these readings? One device at a time (as the
 * worker proves), n readings in K slots: the claim template's witness output (circom's own witness calculator) must
 * equal runApplet's claim over the same epoch, and where the run makes no claim the template must have no witness.
 * The oracle of the compiler's differential tests (differential.ts) and of `mfi test` on an applet's fixtures.
 */
import { paramConfig, type AppletReading } from "../../runtime/index.ts";
import { runApplet } from "../../toolchain/index.ts";
import { SNARK_FIELD } from "./builder.ts";
import { buildCircom, computeWitness, type CircomBuild } from "./circom-run.ts";
import { compileApplet } from "./index.ts";

export interface Case {
  deviceId: bigint;
  seq0: bigint;
  start: bigint;
  length: bigint;
  ts: bigint[];
  values: bigint[][];
  param?: bigint;
}

const field = (v: bigint) => ((v % SNARK_FIELD) + SNARK_FIELD) % SNARK_FIELD;

/** runApplet on the case: its readings, over its epoch, with its param. */
export function runCase(wasm: Uint8Array, c: Case) {
  const readings = c.ts.map((ts, i) => ({ deviceId: c.deviceId, seq: c.seq0 + BigInt(i), ts, values: c.values[i]! }));
  return runApplet({ wasm, readings, epoch: { startMs: c.start, lengthMs: c.length }, config: paramConfig(c.param) });
}

/** What the runtime claims for the case (undefined: no claim). */
export async function runtimeClaim(wasm: Uint8Array, c: Case): Promise<bigint | undefined> {
  const r = await runCase(wasm, c);
  if (r.trap) return undefined;
  const claims = r.decoded.claims.filter((x) => x.deviceId === c.deviceId);
  return claims.length === 1 ? claims[0]!.output : undefined;
}

/** `stateKeys`: a stateful applet's template also takes the device's state before the run, empty here (no state yet). */
export function claimInput(c: Case, K: number, stateKeys = 0): Record<string, unknown> {
  const s = (x: bigint) => x.toString();
  return {
    ...(stateKeys ? { stateIn: Array.from({ length: 2 * stateKeys }, () => "0") } : {}),
    inside: Array.from({ length: K }, (_, i) => (i < c.ts.length ? "1" : "0")),
    ts: Array.from({ length: K }, (_, i) => s(c.ts[i] ?? 0n)),
    values: Array.from({ length: K }, (_, i) => [0, 1, 2, 3].map((j) => s(field(c.values[i]?.[j] ?? 0n)))),
    epochStart: s(c.start),
    epochLength: s(c.length),
    seq0: s(c.seq0),
    ...(c.param !== undefined ? { param: s(field(c.param)) } : {}),
  };
}

/** The claim template's output for the case (undefined: no witness). */
export async function circuitClaim(build: CircomBuild, c: Case, K: number, stateKeys = 0): Promise<bigint | undefined> {
  try {
    const w = await computeWitness(build, claimInput(c, K, stateKeys));
    return w[1]!;
  } catch (e) {
    if (process.env.MFI_DEBUG) console.log(String(e).slice(0, 300));
    return undefined;
  }
}

export interface Disagreement {
  deviceId: bigint;
  k: number;
  runtime: bigint | undefined;
  circuit: bigint | undefined;
}

/** The epoch's length must stay below 2^32 ms in the claim template. */
const MAX_LENGTH = 1n << 32n;

/**
 * Each device of `readings` proven in the smallest of `ks` that holds its readings, over the epoch spanning them
 * (first to last timestamp): where the circuit and the runtime disagree, and the devices that could not be checked
 * (more readings than the largest K, or a span of 2^32 ms or more).
 */
export async function circuitAgreement(o: {
  wasm: Uint8Array;
  hasParam: boolean;
  param?: bigint;
  readings: AppletReading[];
  ks: readonly number[];
  /** The claim circuit's circom main per K (default: compiled from `wasm`); another applet's shows a disagreement. */
  claimMain?: (k: number) => string;
  /**
   * A stateful applet (issue 18): compiled with its state, each device run from no state (the runtime's and the
   * circuit's empty state), as a device's first epoch.
   */
  stateful?: boolean;
}): Promise<{ checked: number; disagreements: Disagreement[]; skipped: { deviceId: bigint; why: string }[] }> {
  const byDevice = new Map<bigint, AppletReading[]>();
  for (const r of o.readings) byDevice.set(r.deviceId, [...(byDevice.get(r.deviceId) ?? []), r]);
  const builds = new Map<number, Promise<CircomBuild>>();
  const compiled = (k: number) => compileApplet({ wasm: o.wasm, k, hasParam: o.hasParam, stateful: o.stateful });
  const stateKeys = o.stateful ? compiled(o.ks[0]!).stateKeys.length : 0;
  const build = (k: number) => {
    let b = builds.get(k);
    const main = o.claimMain ?? ((k: number) => compiled(k).claimOnlyMain);
    if (!b) builds.set(k, (b = buildCircom(main(k))));
    return b;
  };
  const out = { checked: 0, disagreements: [] as Disagreement[], skipped: [] as { deviceId: bigint; why: string }[] };
  for (const [deviceId, rs] of byDevice) {
    rs.sort((a, b) => (a.seq < b.seq ? -1 : 1));
    const k = o.ks.find((k) => k >= rs.length);
    if (k === undefined) {
      out.skipped.push({ deviceId, why: `${rs.length} readings, more than K = ${o.ks[o.ks.length - 1]}` });
      continue;
    }
    const c: Case = {
      deviceId,
      seq0: rs[0]!.seq,
      start: rs[0]!.ts,
      length: rs[rs.length - 1]!.ts - rs[0]!.ts + 1n,
      ts: rs.map((r) => r.ts),
      values: rs.map((r) => [0, 1, 2, 3].map((j) => r.values[j] ?? 0n)),
      ...(o.hasParam ? { param: o.param ?? 0n } : {}),
    };
    if (c.length >= MAX_LENGTH) {
      out.skipped.push({ deviceId, why: "its readings span 2^32 ms or more" });
      continue;
    }
    const [runtime, circuit] = [await runtimeClaim(o.wasm, c), await circuitClaim(await build(k), c, k, stateKeys)];
    out.checked++;
    if (runtime !== circuit) out.disagreements.push({ deviceId, k, runtime, circuit });
  }
  return out;
}
