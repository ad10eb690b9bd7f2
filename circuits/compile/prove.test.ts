/**
 * proveAppletClaim's refusals, each before any proving work: a Wasm that is not the circuit's, a param the circuit
 * does not take (or a missing one), a segment longer than K, and an epoch whose run makes no claim. The circuit
 * descriptions here carry no keys (nothing reaches the prover); test/compiled-applet.test.ts proves for real.
 */
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { EPOCH, deviceKey, epochPoints, makeChain } from "../fixtures.ts";
import { ClaimMismatchError, InvalidProveOptionsError, TooManyReadingsError } from "../errors.ts";
import { loadBuiltApplet } from "../../toolchain/index.ts";
import { compileApplet as compileAs } from "../../toolchain/index.ts";
import type { AppletCircuit } from "./keys.ts";
import { proveAppletClaim } from "./prove.ts";

const circuitFor = (wasm: Uint8Array, o: { k?: number; hasParam?: boolean } = {}): AppletCircuit => {
  const imageId = createHash("sha256").update(wasm).digest("hex");
  const none = "/nonexistent";
  return {
    name: `applet_${imageId.slice(0, 16)}_k${o.k ?? 16}`,
    imageId,
    k: o.k ?? 16,
    hasParam: !!o.hasParam,
    key: "",
    dir: none,
    r1cs: none,
    wasm: none,
    zkey: none,
    vkey: none,
    solidity: none,
    constraints: 0,
    domainPower: 0,
    nPublic: 4,
    compileAppletSeconds: 0,
    circomSeconds: 0,
    setupSeconds: 0,
    cacheHit: true,
  };
};

describe("proveAppletClaim refuses", () => {
  const energySum = loadBuiltApplet("energy-sum");
  const setup = async () => {
    const key = await deviceKey(21);
    return { key, readings: await makeChain(key, epochPoints([5n, 6n, 7n])) };
  };

  it("a Wasm that is not the circuit's applet", async () => {
    const { key, readings } = await setup();
    const circuit = circuitFor(loadBuiltApplet("threshold-alert"));
    await expect(
      proveAppletClaim({ circuit, wasm: energySum, readings, devicePublicKey: key.publicKey, epoch: EPOCH }),
    ).rejects.toThrow(InvalidProveOptionsError);
  });

  it("a param for a circuit without one, and no param for a circuit with one", async () => {
    const { key, readings } = await setup();
    await expect(
      proveAppletClaim({
        circuit: circuitFor(energySum),
        wasm: energySum,
        readings,
        devicePublicKey: key.publicKey,
        epoch: EPOCH,
        param: 3n,
      }),
    ).rejects.toThrow(/compiled without a param/);
    await expect(
      proveAppletClaim({
        circuit: circuitFor(energySum, { hasParam: true }),
        wasm: energySum,
        readings,
        devicePublicKey: key.publicKey,
        epoch: EPOCH,
      }),
    ).rejects.toThrow(/pass param/);
  });

  it("a segment longer than the circuit's K", async () => {
    const { key, readings } = await setup();
    // One before, three inside, one after: the segment needs four slots.
    await expect(
      proveAppletClaim({
        circuit: circuitFor(energySum, { k: 3 }),
        wasm: energySum,
        readings,
        devicePublicKey: key.publicKey,
        epoch: EPOCH,
      }),
    ).rejects.toThrow(TooManyReadingsError);
  });

  it("an epoch with a negative values[0] (ReadingsChain proves values[0] in [0, 2^63))", async () => {
    const key = await deviceKey(22);
    const readings = await makeChain(key, epochPoints([5n, -6n, 7n]));
    await expect(
      proveAppletClaim({
        circuit: circuitFor(energySum),
        wasm: energySum,
        readings,
        devicePublicKey: key.publicKey,
        epoch: EPOCH,
      }),
    ).rejects.toThrow(/values\[0\] = -6 < 0/);
  });

  it("an epoch whose run makes no claim (the applet traps)", async () => {
    const { key, readings } = await setup();
    const wasm = (await compileAs({ source: `export function mfi_main(): void { unreachable(); }` })).wasm;
    await expect(
      proveAppletClaim({ circuit: circuitFor(wasm), wasm, readings, devicePublicKey: key.publicKey, epoch: EPOCH }),
    ).rejects.toThrow(ClaimMismatchError);
  });
});
