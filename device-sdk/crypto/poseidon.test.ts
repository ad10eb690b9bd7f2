import { describe, expect, it } from "vitest";
import { poseidon1, poseidon8 } from "poseidon-lite";
import { genesisHash, hashReading, jsPoseidon, setPoseidon } from "../chain.ts";
import { CryptoInputError, loadWasmBackend, loadWasmPoseidon } from "./index.ts";
import { P } from "./backend.ts";
import { circomlib, rng } from "./test-helpers.ts";

describe("Wasm Poseidon against circomlibjs", async () => {
  const wasm = await loadWasmBackend();
  const { poseidon } = await circomlib();
  const ref = (xs: bigint[]) => poseidon.F.toObject(poseidon(xs));

  it("equals circomlibjs for every width 1..16 on 3,000 random inputs", () => {
    const r = rng(1);
    for (let i = 0; i < 3000; i++) {
      const n = 1 + (i % 16);
      const xs = Array.from({ length: n }, () => r.field());
      expect(wasm.poseidon(xs), `inputs ${xs}`).toBe(ref(xs));
    }
  });

  it("equals poseidon-lite on the chain's widths (1 and 8)", () => {
    const r = rng(2);
    for (let i = 0; i < 500; i++) {
      const a = r.field();
      expect(wasm.poseidon([a])).toBe(poseidon1([a]));
      const xs = Array.from({ length: 8 }, () => r.field());
      expect(wasm.poseidon(xs)).toBe(poseidon8(xs));
    }
  });

  it("rejects 0 or 17 inputs and values outside the field with CryptoInputError", () => {
    expect(() => wasm.poseidon([])).toThrow(CryptoInputError);
    expect(() => wasm.poseidon(Array(17).fill(1n))).toThrow(/1 to 16 inputs/);
    expect(() => wasm.poseidon([P])).toThrow(CryptoInputError);
    expect(() => wasm.poseidon([-1n])).toThrow(/not a field element/);
    expect(() => wasm.poseidon([1 as unknown as bigint])).toThrow(CryptoInputError);
  });

  it("drives the hash chain through setPoseidon with the same hashes", async () => {
    const reading = {
      deviceId: 123n,
      seq: 1n,
      ts: 1_700_000_000_000n,
      values: [1n, -2n, 3n, 0n],
      prev: genesisHash(123n),
    };
    const before = hashReading(reading);
    setPoseidon(await loadWasmPoseidon(wasm));
    try {
      expect(genesisHash(123n)).toBe(reading.prev);
      expect(hashReading(reading)).toBe(before);
    } finally {
      setPoseidon(jsPoseidon);
    }
  });
});
