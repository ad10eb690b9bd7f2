import { describe, expect, it } from "vitest";
import type { Signature, VerifyItem } from "../eddsa-api.ts";
import { CryptoInputError, CryptoWasmLoadError, loadWasmBackend } from "./index.ts";
import { readWasmBytes } from "./wasm.ts";
import { L, P } from "./backend.ts";
import { circomlib, rng } from "./test-helpers.ts";

describe("Wasm EdDSA-Poseidon against circomlibjs", async () => {
  const wasm = await loadWasmBackend();
  const { eddsa } = await circomlib();
  const bj = eddsa.babyJub;
  const F = bj.F;
  const pt = (x: bigint, y: bigint): [unknown, unknown] => [F.e(x), F.e(y)];
  const xy = (p: [unknown, unknown]) => ({ x: F.toObject(p[0]), y: F.toObject(p[1]) });

  it("derives public keys, signs bit for bit like circomlibjs and each verifies the other's (200 keys, keys of 1..111 bytes)", () => {
    const r = rng(3);
    for (let i = 0; i < 200; i++) {
      const key = r.bytes(i % 10 === 0 ? 1 + r.int(111) : 32);
      const msg = r.field();
      const pub = wasm.publicKey(key);
      expect(pub).toEqual(xy(eddsa.prv2pub(key)));
      const ref = eddsa.signPoseidon(key, F.e(msg));
      const sig = wasm.sign(key, msg);
      expect(sig).toEqual({ R8x: F.toObject(ref.R8[0]), R8y: F.toObject(ref.R8[1]), S: ref.S });
      expect(wasm.verify({ msg, sig, publicKey: pub })).toBe(true);
      if (i % 2 === 0)
        expect(eddsa.verifyPoseidon(F.e(msg), { R8: pt(sig.R8x, sig.R8y), S: sig.S }, pt(pub.x, pub.y))).toBe(true);
    }
  });

  it("round-trips its own signatures and rejects a changed message (2,000 random keys and messages)", () => {
    const r = rng(4);
    for (let i = 0; i < 2000; i++) {
      const key = r.bytes(32);
      const msg = r.field();
      const publicKey = wasm.publicKey(key);
      const sig = wasm.sign(key, msg);
      expect(wasm.verify({ msg, sig, publicKey })).toBe(true);
      expect(wasm.verify({ msg: (msg + 1n) % P, sig, publicKey })).toBe(false);
    }
  });

  describe("rejects what circomlib's EdDSAPoseidonVerifier rejects", () => {
    const key = new Uint8Array(32).fill(7);
    const msg = 1234567890n;
    const publicKey = wasm.publicKey(key);
    const sig = wasm.sign(key, msg);
    const good: VerifyItem = { msg, sig, publicKey };
    const withSig = (s: Partial<Signature>): VerifyItem => ({ ...good, sig: { ...sig, ...s } });
    // The 8 points of small order: multiples of l·Generator (the Generator has order 8·l).
    const t8 = bj.mulPointEscalar(bj.Generator, L);
    const torsion = Array.from({ length: 8 }, (_, k) => xy(bj.mulPointEscalar(t8, BigInt(k))));

    it("accepts the untouched signature", () => expect(wasm.verify(good)).toBe(true));

    it("a public key or R8 off the curve", () => {
      expect(wasm.verify({ ...good, publicKey: { x: publicKey.x, y: (publicKey.y + 1n) % P } })).toBe(false);
      expect(wasm.verify(withSig({ R8y: (sig.R8y + 1n) % P }))).toBe(false);
      expect(wasm.verify(withSig({ R8x: 0n, R8y: 0n }))).toBe(false);
    });

    it("a public key of small order, even where circomlibjs' JS verifier would accept it", () => {
      expect(new Set(torsion.map((t) => `${t.x},${t.y}`)).size).toBe(8);
      const S = 99n;
      const R8 = xy(bj.mulPointEscalar(bj.Base8, S));
      for (const A of torsion) {
        expect(bj.inCurve(pt(A.x, A.y))).toBe(true);
        // 8·h·A vanishes, so S·Base8 == R8 holds: only the circuit's "8A ≠ 0" check stops this forgery.
        expect(eddsa.verifyPoseidon(F.e(5n), { R8: pt(R8.x, R8.y), S }, pt(A.x, A.y))).toBe(true);
        expect(wasm.verify({ msg: 5n, sig: { R8x: R8.x, R8y: R8.y, S }, publicKey: A })).toBe(false);
      }
    });

    it("S at or above the subgroup order, including S + l (same point, different encoding)", () => {
      expect(wasm.verify(withSig({ S: L }))).toBe(false);
      expect(wasm.verify(withSig({ S: sig.S + L }))).toBe(false);
      expect(wasm.verify(withSig({ S: 1n << 253n }))).toBe(false);
      expect(wasm.verify(withSig({ S: -1n }))).toBe(false);
      expect(wasm.verify(withSig({ S: (sig.S + 1n) % L }))).toBe(false);
    });

    it("a wrong message or a tampered R8 (another point, or R8 plus a small-order point)", () => {
      expect(wasm.verify({ ...good, msg: msg + 1n })).toBe(false);
      const other = xy(bj.mulPointEscalar(bj.Base8, 12345n));
      expect(wasm.verify(withSig({ R8x: other.x, R8y: other.y }))).toBe(false);
      for (const T of torsion.slice(1)) {
        const shifted = xy(bj.addPoint(pt(sig.R8x, sig.R8y), pt(T.x, T.y)));
        expect(wasm.verify(withSig({ R8x: shifted.x, R8y: shifted.y }))).toBe(false);
        const A2 = xy(bj.addPoint(pt(publicKey.x, publicKey.y), pt(T.x, T.y)));
        expect(wasm.verify({ ...good, publicKey: A2 })).toBe(false);
      }
    });

    it("non-canonical encodings and values that are not bigints", () => {
      expect(wasm.verify({ ...good, msg: msg + P })).toBe(false);
      expect(wasm.verify(withSig({ R8x: sig.R8x + P }))).toBe(false);
      expect(wasm.verify({ ...good, publicKey: { x: publicKey.x + P, y: publicKey.y } })).toBe(false);
      expect(wasm.verify(withSig({ S: Number(1) as unknown as bigint }))).toBe(false);
      expect(wasm.verify({ ...good, msg: -1n })).toBe(false);
      expect(wasm.verify({ msg, sig: undefined as unknown as Signature, publicKey })).toBe(false);
    });
  });

  it("refuses keys it cannot derive and messages outside the field with CryptoInputError", () => {
    expect(() => wasm.sign(new Uint8Array(0), 1n)).toThrow(CryptoInputError);
    expect(() => wasm.publicKey(new Uint8Array(112))).toThrow(/1 to 111 bytes/);
    expect(() => wasm.publicKey("00" as unknown as Uint8Array)).toThrow(CryptoInputError);
    expect(() => wasm.sign(new Uint8Array(32), P)).toThrow(/not a field element/);
    expect(() => wasm.sign(new Uint8Array(32), -1n)).toThrow(CryptoInputError);
  });
});

describe("CryptoWasmLoadError", () => {
  it("a missing crypto module is a CryptoWasmLoadError that says how to build it", async () => {
    const err = await readWasmBytes(new URL("file:///nonexistent/crypto.wasm")).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CryptoWasmLoadError);
    expect((err as Error).message).toMatch(/cannot read the crypto Wasm module[\s\S]*npm run build/);
  });
});
