/**
 * Shared by the crypto tests: the circomlibjs reference (raw, so tests can reach what the EddsaBackend wrapper
 * hides) and a seeded generator so a failing random case can be replayed.
 */
import { P } from "./backend.ts";

export interface RawEddsa {
  babyJub: {
    F: { e(x: bigint): unknown; toObject(x: unknown): bigint };
    Base8: [unknown, unknown];
    Generator: [unknown, unknown];
    mulPointEscalar(p: [unknown, unknown], e: bigint): [unknown, unknown];
    addPoint(a: [unknown, unknown], b: [unknown, unknown]): [unknown, unknown];
    inCurve(p: [unknown, unknown]): boolean;
  };
  prv2pub(prv: Uint8Array): [unknown, unknown];
  signPoseidon(prv: Uint8Array, msg: unknown): { R8: [unknown, unknown]; S: bigint };
  verifyPoseidon(msg: unknown, sig: { R8: [unknown, unknown]; S: bigint }, A: [unknown, unknown]): boolean;
}
export type RawPoseidon = ((inputs: bigint[]) => unknown) & { F: { toObject(x: unknown): bigint } };

let lib: Promise<{ eddsa: RawEddsa; poseidon: RawPoseidon }> | undefined;
export function circomlib(): Promise<{ eddsa: RawEddsa; poseidon: RawPoseidon }> {
  lib ??= (async () => {
    const spec = "circomlibjs"; // untyped package: a variable specifier keeps tsc from demanding declarations
    const m = (await import(spec)) as unknown as {
      buildEddsa(): Promise<RawEddsa>;
      buildPoseidon(): Promise<RawPoseidon>;
    };
    const [eddsa, poseidon] = await Promise.all([m.buildEddsa(), m.buildPoseidon()]);
    return { eddsa, poseidon };
  })();
  return lib;
}

/** xorshift128+ over BigInt-free 32-bit state: deterministic random bytes and field elements for a given seed. */
export function rng(seed: number) {
  let a = seed >>> 0 || 1,
    b = 0x9e3779b9,
    c = 0x243f6a88,
    d = 0xb7e15162;
  const next = () => {
    const t = a ^ (a << 11);
    a = b;
    b = c;
    c = d;
    d = (d ^ (d >>> 19) ^ (t ^ (t >>> 8))) >>> 0;
    return d;
  };
  const bytes = (n: number) => Uint8Array.from({ length: n }, () => next() & 0xff);
  const big = (bits: number) => {
    let x = 0n;
    for (let i = 0; i < bits; i += 32) x = (x << 32n) | BigInt(next());
    return x & ((1n << BigInt(bits)) - 1n);
  };
  return {
    int: (n: number) => next() % n,
    bytes,
    /** A field element, biased towards the edges (0, 1, p-1, small, full-size) where carries go wrong. */
    field: (): bigint => {
      const k = next() % 8;
      if (k === 0) return [0n, 1n, P - 1n, P - 2n][next() % 4]!;
      if (k === 1) return big(64);
      return big(256) % P;
    },
  };
}
