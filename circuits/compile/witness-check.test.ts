/**
 * checkAppletClaim refuses what a proof refuses, by computing the compiled main's witness with circom's own
 * calculator (a claim the applet does not compute) and refuses a negative values[0] up front, as proving does; it
 * accepts the claim the applet computes.
 */
import { describe, expect, it } from "vitest";
import { EPOCH, deviceKey, epochPoints, makeChain, type Point } from "../fixtures.ts";
import { InvalidProveOptionsError, ProvingError } from "../errors.ts";
import { loadBuiltApplet } from "../../toolchain/index.ts";
import { checkAppletClaim } from "./witness-check.ts";

const wasm = loadBuiltApplet("energy-sum");

async function check(points: Point[], output: bigint) {
  const key = await deviceKey(9);
  const readings = await makeChain(key, points);
  return checkAppletClaim({ wasm, k: 16, readings, devicePublicKey: key.publicKey, epoch: EPOCH, output });
}

describe("checkAppletClaim (a proof's checks without the Groth16 step)", () => {
  it("accepts the output the applet computes and refuses any other with a ProvingError", async () => {
    await expect(check(epochPoints([3n, 4n, 5n]), 12n)).resolves.toBeUndefined();
    const err = await check(epochPoints([3n, 4n, 5n]), 13n).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProvingError);
    expect((err as Error).message).toMatch(/no proof exists for output 13/);
  }, 300_000);

  it("refuses a negative values[0] before computing anything", async () => {
    const err = await check(epochPoints([3n, -4n]), -1n).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidProveOptionsError);
  });
});
