/**
 * The compiled claim against the runtime, on the same readings: the test oracle of the applet compiler. One device,
 * n readings in K slots; the claim template's witness output must equal runApplet's claim, and where the run makes
 * no claim (a trap, or no claim call) the template must have no witness.
 */
import fc from "fast-check";
import { paramConfig } from "../../runtime/index.ts";
import { runApplet } from "../../toolchain/index.ts";
import { SNARK_FIELD } from "./builder.ts";
import { computeWitness, type CircomBuild } from "./circom-run.ts";

export interface Case {
  deviceId: bigint;
  seq0: bigint;
  start: bigint;
  length: bigint;
  ts: bigint[];
  values: bigint[][];
  param?: bigint;
}

const I64_MIN = -(1n << 63n);
const I64_MAX = (1n << 63n) - 1n;
const field = (v: bigint) => ((v % SNARK_FIELD) + SNARK_FIELD) % SNARK_FIELD;

/** Values biased to the i64 extremes and to small numbers, where wrap-around and sign bugs live. */
export const i64 = () =>
  fc.oneof(
    fc.bigInt({ min: I64_MIN, max: I64_MAX }),
    fc.constantFrom(I64_MIN, I64_MAX, -1n, 0n, 1n),
    fc.bigInt({ min: -20n, max: 20n }),
  );

/**
 * A device's epoch: n readings, all inside the epoch [start, start + length) as the chain proves for the inside
 * slots (the claim template's precondition), ts non-decreasing, start up to near 2^48 and length below 2^32.
 */
export function caseArb(K: number, withParam = false, minN = 1): fc.Arbitrary<Case> {
  const stepMax = (1n << 31n) / BigInt(K);
  return fc
    .record({
      n: fc.integer({ min: minN, max: K }),
      first: fc.oneof(
        fc.bigInt({ min: 0n, max: 1n << 41n }),
        fc.bigInt({ min: (1n << 48n) - (1n << 33n), max: (1n << 48n) - (1n << 32n) }),
      ),
      lead: fc.oneof(fc.constant(0n), fc.bigInt({ min: 0n, max: 1n << 20n })),
      tail: fc.oneof(fc.constant(1n), fc.bigInt({ min: 1n, max: 1n << 31n })),
      seq0: fc.bigInt({ min: 1n, max: 1n << 40n }),
      deviceId: fc.bigInt({ min: 1n, max: SNARK_FIELD - 1n }),
      steps: fc.array(fc.oneof(fc.constant(0n), fc.bigInt({ min: 0n, max: stepMax })), { minLength: K, maxLength: K }),
      values: fc.array(fc.array(i64(), { minLength: 4, maxLength: 4 }), { minLength: K, maxLength: K }),
      param: i64(),
    })
    .map((r) => {
      const ts: bigint[] = [];
      let t = r.first;
      for (let i = 0; i < r.n; i++) ts.push((t += i === 0 ? 0n : r.steps[i]!));
      const start = r.first - (r.lead > r.first ? r.first : r.lead);
      return {
        deviceId: r.deviceId,
        seq0: r.seq0,
        start,
        length: t - start + r.tail,
        ts,
        values: r.values.slice(0, r.n),
        ...(withParam ? { param: r.param } : {}),
      };
    });
}

/** What the runtime claims for the case (undefined: no claim). */
export async function runtimeClaim(wasm: Uint8Array, c: Case): Promise<bigint | undefined> {
  const readings = c.ts.map((ts, i) => ({ deviceId: c.deviceId, seq: c.seq0 + BigInt(i), ts, values: c.values[i]! }));
  const r = await runApplet({
    wasm,
    readings,
    epoch: { startMs: c.start, lengthMs: c.length },
    config: paramConfig(c.param),
  });
  if (r.trap) return undefined;
  const claims = r.decoded.claims.filter((x) => x.deviceId === c.deviceId);
  return claims.length === 1 ? claims[0]!.output : undefined;
}

export function claimInput(c: Case, K: number): Record<string, unknown> {
  const s = (x: bigint) => x.toString();
  return {
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
export async function circuitClaim(build: CircomBuild, c: Case, K: number): Promise<bigint | undefined> {
  try {
    const w = await computeWitness(build, claimInput(c, K));
    return w[1]!;
  } catch (e) {
    if (process.env.MFI_DEBUG) console.log(String(e).slice(0, 300));
    return undefined;
  }
}
