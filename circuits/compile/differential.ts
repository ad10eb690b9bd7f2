/**
 * The compiled claim against the runtime, on the same readings: the test oracle of the applet compiler. One device,
 * n readings in K slots; the claim template's witness output must equal runApplet's claim, and where the run makes
 * no claim (a trap, or no claim call) the template must have no witness.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { APPLETS_DIR, compileApplet as compileAs } from "../../toolchain/index.ts";
import { SNARK_FIELD } from "./builder.ts";
import type { Case } from "./agreement.ts";

export { circuitClaim, claimInput, runtimeClaim, type Case } from "./agreement.ts";

const I64_MIN = -(1n << 63n);
const I64_MAX = (1n << 63n) - 1n;

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

/** The Wasm of an example applet (applets/<name>) or of a compiler fixture (fixtures/assembly/<name>.ts). */
export async function fixture(name: string): Promise<Uint8Array> {
  const applet = join(APPLETS_DIR, name, "assembly", "index.ts");
  const entry = existsSync(applet) ? applet : join(import.meta.dirname, "fixtures", "assembly", `${name}.ts`);
  return (await compileAs({ entry })).wasm;
}
