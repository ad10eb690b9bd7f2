/**
 * The Wasm backend as the install without a compiler sees it: the native addon's path points at a missing file
 * (MFI_NATIVE_ADDON, as a failed build leaves it) and MFI_PROVER=wasm; the prover pool's processes prove with the Wasm
 * prover and the proofs verify with snarkjs. Without MFI_PROVER the loader also picks Wasm (measured faster than
 * snarkjs), saying why native is not used; a missing Wasm module falls back to snarkjs with the reason.
 */
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { readFileSync } from "node:fs";
// @ts-expect-error snarkjs ships no types
import * as snarkjs from "snarkjs";
import { imageIdToField } from "../../device-sdk/index.ts";
import { artifactsOf, buildCircuits } from "../setup/build.ts";
import { readingsInput, selectSegment } from "../witness.ts";
import { ProverPool, poolBackend, proverSummary } from "../pool.ts";
import { deviceKey, makeChain, epochPoints, EPOCH, EPOCH_PACKED, IMAGE_ID } from "../fixtures.ts";
import { proverBackend } from "../native/loader.ts";

const saved = { prover: process.env.MFI_PROVER, addon: process.env.MFI_NATIVE_ADDON };
const restore = (k: "MFI_PROVER" | "MFI_NATIVE_ADDON", v: string | undefined) =>
  v === undefined ? delete process.env[k] : (process.env[k] = v);

beforeAll(async () => {
  await buildCircuits(["readings_sum_16"], { log: () => {} });
}, 600_000);
afterAll(() => {
  restore("MFI_PROVER", saved.prover);
  restore("MFI_NATIVE_ADDON", saved.addon);
});

describe("the Wasm backend when the native build failed", { timeout: 300_000 }, () => {
  it("the pool proves with the Wasm prover (MFI_PROVER=wasm) and the proofs verify", async () => {
    process.env.MFI_NATIVE_ADDON = "/nonexistent/mfi_prover.node";
    process.env.MFI_PROVER = "wasm";
    expect(poolBackend()).toMatchObject({ backend: "wasm" });
    expect(proverSummary()).toMatchObject({ backend: "wasm", fallback: false });
    const key = await deviceKey(3);
    const chain = await makeChain(key, epochPoints([5n, 7n, 11n]));
    const input = readingsInput({
      segment: selectSegment(chain, key.publicKey, EPOCH),
      k: 16,
      publicKey: key.publicKey,
      imageIdField: imageIdToField(IMAGE_ID),
      epoch: EPOCH_PACKED,
      output: 23n,
    });
    const a = artifactsOf("readings_sum_16");
    const pool = new ProverPool(1);
    try {
      for (let i = 0; i < 2; i++) {
        const p = await pool.prove(input, a.wasm, a.zkey);
        expect(p.backend).toBe("wasm");
        expect(p.fallback).toBeUndefined();
        const vk = JSON.parse(readFileSync(a.vkey, "utf8"));
        expect(await snarkjs.groth16.verify(vk, p.publicSignals, p.proof)).toBe(true);
      }
    } finally {
      await pool.close();
    }
  });

  it("without MFI_PROVER the loader picks the Wasm prover next and says why native is not used", () => {
    const b = proverBackend({ addonPath: "/nonexistent/mfi_prover.node", env: "" });
    expect(b.backend).toBe("wasm");
    expect(b.reason).toMatch(/native prover is not built.*Wasm prover .* passed its self-check/);
    const none = proverBackend({ addonPath: "/nonexistent/a.node", wasmPath: "/nonexistent/p.wasm", env: "" });
    expect(none.backend).toBe("snarkjs");
    expect(none.reason).toMatch(/native prover is not built.*Wasm prover is not built/);
  });

  it("MFI_PROVER=wasm with the Wasm module missing falls back to snarkjs with the reason", () => {
    const b = proverBackend({ addonPath: "/nonexistent/a.node", wasmPath: "/nonexistent/prover.wasm", env: "wasm" });
    expect(b).toMatchObject({ backend: "snarkjs" });
    expect(b.reason).toMatch(/Wasm prover is not built/);
  });

  it("a file that is not Wasm is refused with a reason", () => {
    const b = proverBackend({ wasmPath: new URL("./codegen.ts", import.meta.url).pathname, env: "wasm" });
    expect(b).toMatchObject({ backend: "snarkjs" });
    expect(b.reason).toMatch(/does not load/);
  });
});
