/**
 * The native addon's arithmetic against ffjavascript (snarkjs's own): G1 and G2 multi-scalar multiplication on random
 * inputs with the edge cases Pippenger gets wrong first, the NTT both ways, and the loader's fallback when the addon
 * is missing or refused. Arithmetic tests are skipped when the addon did not build (the loader test says why).
 */
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { randomBytes } from "node:crypto";
// @ts-expect-error snarkjs ships no types
import * as snarkjs from "snarkjs";
import { proverBackend, selfCheck, fromLe, type NativeAddon } from "./loader.ts";

/* eslint-disable @typescript-eslint/no-explicit-any */
type Curve = any;
const backend = proverBackend({ env: "native" });
const native: NativeAddon | undefined = backend.addon;
let curve: Curve;

beforeAll(async () => {
  curve = await snarkjs.curves.getCurveFromName("bn128", { singleThread: true });
});
afterAll(async () => {
  await curve?.terminate();
});

const R = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;

function randomG1(n: number): Uint8Array {
  const out = new Uint8Array(n * 64);
  for (let i = 0; i < n; i++) out.set(curve.G1.toAffine(curve.G1.timesFr(curve.G1.g, curve.Fr.random())), 64 * i);
  return out;
}

/** Random 256-bit scalars with edge cases: zeros, r itself, ≥ r, 1, r − 1; points at infinity and repeats. */
function edgeCases(points: Uint8Array, scalars: Uint8Array, size: number): void {
  const n = scalars.length / 32;
  const set = (i: number, x: bigint) => {
    for (let b = 0; b < 32; b++, x >>= 8n) scalars[32 * i + b] = Number(x & 0xffn);
  };
  set(0, 0n);
  set(1, R);
  set(2, R + 12345n);
  set(3, 1n);
  set(4, R - 1n);
  set(5, (1n << 256n) - 1n);
  points.fill(0, size * 6, size * 7); // infinity, with a nonzero scalar
  for (let i = 8; i < Math.min(n, 40); i++) points.copyWithin(size * i, size * 7, size * 8); // one point repeated
  points.copyWithin(size * 9, size * 4, size * 5); // P and -P? same point with scalar r-1 and 1 below
}

const g1Of = (b: Uint8Array) => [fromLe(b.subarray(0, 32)), fromLe(b.subarray(32, 64))];

describe.skipIf(!native)("native MSM and NTT against ffjavascript", () => {
  for (const n of [1, 3, 7, 8, 100, 2000]) {
    it(`G1 MSM of ${n} points`, async () => {
      const points = randomG1(n);
      const scalars = new Uint8Array(randomBytes(32 * n));
      if (n >= 40) edgeCases(points, scalars, 64);
      const want = curve.G1.toObject(curve.G1.toAffine(await curve.G1.multiExpAffine(points, scalars)));
      for (const threads of [1, 2]) {
        const got = g1Of(native!.msmG1(points, scalars, threads));
        expect(got).toEqual([want[0], want[1]]);
      }
    });
  }

  it("G1 MSM: all scalars zero or all points at infinity give infinity (0, 0)", () => {
    const points = randomG1(50);
    expect(g1Of(native!.msmG1(points, new Uint8Array(50 * 32)))).toEqual([0n, 0n]);
    const scalars = new Uint8Array(randomBytes(50 * 32));
    expect(g1Of(native!.msmG1(new Uint8Array(50 * 64), scalars))).toEqual([0n, 0n]);
    // P·k + P·(r − k) = infinity: the bucket sums meet opposite points.
    const p = points.slice(0, 64);
    const two = new Uint8Array(128);
    two.set(p, 0);
    two.set(p, 64);
    const k = 987654321987654321n;
    const sc = new Uint8Array(64);
    for (let b = 0, x = k, y = R - k; b < 32; b++, x >>= 8n, y >>= 8n)
      ((sc[b] = Number(x & 0xffn)), (sc[32 + b] = Number(y & 0xffn)));
    expect(g1Of(native!.msmG1(two, sc))).toEqual([0n, 0n]);
  });

  it("G2 MSM of 300 points with edge cases", async () => {
    const n = 300;
    const points = new Uint8Array(n * 128);
    for (let i = 0; i < n; i++) points.set(curve.G2.toAffine(curve.G2.timesFr(curve.G2.g, curve.Fr.random())), 128 * i);
    const scalars = new Uint8Array(randomBytes(32 * n));
    edgeCases(points, scalars, 128);
    const want = curve.G2.toObject(curve.G2.toAffine(await curve.G2.multiExpAffine(points, scalars)));
    const got = native!.msmG2(points, scalars, 2);
    const f = (i: number) => fromLe(got.subarray(32 * i, 32 * i + 32));
    expect([
      [f(0), f(1)],
      [f(2), f(3)],
    ]).toEqual([want[0], want[1]]);
  });

  for (const log of [0, 1, 4, 13]) {
    it(`NTT and inverse NTT of size 2^${log} equal Fr.fft / Fr.ifft`, async () => {
      const n = 1 << log;
      const v = new Uint8Array(n * 32);
      for (let i = 0; i < n; i++) v.set(curve.Fr.random(), 32 * i);
      expect(Buffer.from(native!.ntt(v, false)).equals(Buffer.from(await curve.Fr.fft(v)))).toBe(true);
      expect(Buffer.from(native!.ntt(v, true)).equals(Buffer.from(await curve.Fr.ifft(v)))).toBe(true);
    });
  }

  it("refuses malformed buffers with a RangeError or TypeError, never a crash", () => {
    expect(() => native!.msmG1(new Uint8Array(63), new Uint8Array(32))).toThrow(RangeError);
    expect(() => native!.msmG1(new Uint8Array(64), new Uint8Array(31))).toThrow(RangeError);
    expect(() => native!.msmG2(new Uint8Array(64), new Uint8Array(32))).toThrow(RangeError);
    expect(() => (native!.msmG1 as any)("x", 1)).toThrow(TypeError);
    expect(() => native!.ntt(new Uint8Array(96), false)).toThrow(RangeError);
    expect(() => (native!.prove as any)()).toThrow(TypeError);
  });
});

describe("backend choice", () => {
  it("falls back to snarkjs, saying why, when the addon is missing", () => {
    const b = proverBackend({ addonPath: "/nonexistent/mfi_prover.node", wasmPath: "/nonexistent/p.wasm", env: "" });
    expect(b.backend).toBe("snarkjs");
    expect(b.reason).toMatch(/not built/);
    expect(b.addon).toBeUndefined();
  });

  it("MFI_PROVER=snarkjs forces snarkjs even when the addon is there", () => {
    expect(proverBackend({ env: "snarkjs" })).toMatchObject({ backend: "snarkjs", reason: "MFI_PROVER=snarkjs" });
  });

  it("a file that is not an addon is refused with a reason", () => {
    const b = proverBackend({
      addonPath: new URL("./groth16.h", import.meta.url).pathname,
      wasmPath: "/nonexistent/p.wasm",
      env: "",
    });
    expect(b).toMatchObject({ backend: "snarkjs" });
    expect(b.reason).toMatch(/does not load/);
  });

  it("an addon whose arithmetic is wrong fails the self-check", () => {
    const wrong: NativeAddon = {
      ...(native ?? ({} as NativeAddon)),
      msmG1: () => new Uint8Array(64),
      ntt: (v) => v,
    };
    expect(selfCheck(wrong)).toMatch(/wrong answer/);
  });

  it.skipIf(!native)("the built addon passes its self-check and is chosen", () => {
    expect(selfCheck(native!)).toBeUndefined();
    expect(proverBackend({ env: "" }).backend).toBe("native");
  });
});
