import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import type { VerifyItem } from "../eddsa-api.ts";
import { loadWasmBackend } from "./index.ts";
import { L, P } from "./backend.ts";
import { circomlib, rng } from "./test-helpers.ts";

describe("Wasm batch verification", async () => {
  const wasm = await loadWasmBackend();
  const { eddsa } = await circomlib();
  const bj = eddsa.babyJub;
  const F = bj.F;
  const r = rng(5);
  const keys = Array.from({ length: 12 }, () => r.bytes(32));
  const make = (n: number): VerifyItem[] =>
    Array.from({ length: n }, (_, i) => {
      const key = keys[i % keys.length]!;
      const msg = r.field();
      return { msg, sig: wasm.sign(key, msg), publicKey: wasm.publicKey(key) };
    });

  it("accepts a batch of valid signatures and an empty one", () => {
    expect(wasm.verifyBatch(make(100))).toEqual(Array(100).fill(true));
    expect(wasm.verifyBatch([])).toEqual([]);
    expect(wasm.verifyBatch(make(1))).toEqual([true]);
  });

  it("finds exactly the bad signatures, whatever is wrong with them and wherever they are", () => {
    for (let round = 0; round < 6; round++) {
      const items = make(60 + round * 20);
      const bad = new Set<number>();
      const nBad = [1, 2, 5, 0, 17, 3][round]!;
      while (bad.size < nBad) bad.add(r.int(items.length));
      const t2 = bj.mulPointEscalar(bj.mulPointEscalar(bj.Generator, L), 4n); // the point of order 2
      let kind = 0;
      for (const i of bad) {
        const it = items[i]!;
        switch (kind++ % 6) {
          case 0:
            items[i] = { ...it, msg: (it.msg + 1n) % P };
            break;
          case 1:
            items[i] = { ...it, sig: { ...it.sig, S: (it.sig.S + 1n) % L } };
            break;
          case 2:
            items[i] = { ...it, sig: { ...it.sig, R8y: (it.sig.R8y + 1n) % P } };
            break; // off the curve
          case 3:
            items[i] = { ...it, sig: { ...it.sig, S: it.sig.S + L } };
            break;
          case 4:
            items[i] = { ...it, publicKey: { x: 0n, y: 1n } };
            break; // small order
          case 5: {
            const R = bj.addPoint([F.e(it.sig.R8x), F.e(it.sig.R8y)], t2);
            items[i] = { ...it, sig: { ...it.sig, R8x: F.toObject(R[0]), R8y: F.toObject(R[1]) } };
            break;
          }
        }
      }
      const got = wasm.verifyBatch(items);
      expect(got).toEqual(items.map((_, i) => !bad.has(i)));
      expect(got).toEqual(items.map((it) => wasm.verify(it)));
    }
  });

  it("rejects a signature whose R8 carries a small-order component, alone among valid ones", () => {
    // Made like an honest signature but with R8 = r·Base8 + T: S·Base8 - h·8A = R8 - T ≠ R8, so the circuit rejects it.
    const key = keys[0]!;
    const A = wasm.publicKey(key);
    const t8 = bj.mulPointEscalar(bj.Generator, L);
    const k = 777n;
    const R = bj.addPoint(bj.mulPointEscalar(bj.Base8, k), t8);
    const R8x = F.toObject(R[0]),
      R8y = F.toObject(R[1]);
    const msg = 42n;
    const h = wasm.poseidon([R8x, R8y, A.x, A.y, msg]);
    const S = (k + h * scalarOf(key)) % L;
    const forged: VerifyItem = { msg, sig: { R8x, R8y, S }, publicKey: A };
    expect(wasm.verify(forged)).toBe(false);
    // The same construction without T is a valid signature, so the rejection above is the torsion's doing.
    const Rc = bj.mulPointEscalar(bj.Base8, k);
    const cx = F.toObject(Rc[0]),
      cy = F.toObject(Rc[1]);
    const Sc = (k + wasm.poseidon([cx, cy, A.x, A.y, msg]) * scalarOf(key)) % L;
    expect(wasm.verify({ msg, sig: { R8x: cx, R8y: cy, S: Sc }, publicKey: A })).toBe(true);
    const items = make(30);
    items.splice(13, 0, forged);
    expect(wasm.verifyBatch(items)).toEqual(items.map((_, i) => i !== 13));
  });

  /** A signature made like an honest one but with R8 = k·Base8 + T (only the key holder can make it). */
  const withTorsion = (key: Uint8Array, k: bigint, T: [unknown, unknown], msg: bigint): VerifyItem => {
    const A = wasm.publicKey(key);
    const R = bj.addPoint(bj.mulPointEscalar(bj.Base8, k), T);
    const R8x = F.toObject(R[0]),
      R8y = F.toObject(R[1]);
    const S = (k + wasm.poseidon([R8x, R8y, A.x, A.y, msg]) * scalarOf(key)) % L;
    return { msg, sig: { R8x, R8y, S }, publicKey: A };
  };

  it("rejects a crafted pair whose R8 small-order parts cancel in the combination", () => {
    // With odd coefficients z1·T2 + z2·T2 = 0 for the point T2 of order 2, and z·T4 + z'·(-T4) = 0 when z ≡ z' mod 4:
    // without the subgroup test on R8 such pairs passed the batch while each fails alone (and in the circuit).
    const g8 = bj.mulPointEscalar(bj.Generator, L);
    const t2 = bj.mulPointEscalar(g8, 4n),
      t4 = bj.mulPointEscalar(g8, 2n),
      t4n = bj.mulPointEscalar(g8, 6n);
    for (const [T1, T2] of [
      [t2, t2],
      [t4, t4n],
      [g8, bj.mulPointEscalar(g8, 7n)],
    ]) {
      const a = withTorsion(keys[1]!, 1234n, T1, 5n),
        b = withTorsion(keys[1]!, 98765n, T2, 6n);
      expect([wasm.verify(a), wasm.verify(b)]).toEqual([false, false]);
      expect(wasm.verifyBatch([a, b])).toEqual([false, false]);
      const items = make(20);
      items.splice(3, 0, a);
      items.splice(17, 0, b);
      expect(wasm.verifyBatch(items)).toEqual(items.map((_, i) => i !== 3 && i !== 17));
    }
  });

  it("settles R8 of small order exactly: the identity can verify, the point of order 2 cannot", () => {
    // R8 = identity (k = 0) is a valid signature for the circuit; the pairing test is undefined there.
    const zero = bj.mulPointEscalar(bj.Base8, 0n);
    const id = withTorsion(keys[2]!, 0n, zero, 77n);
    const t2 = bj.mulPointEscalar(bj.mulPointEscalar(bj.Generator, L), 4n);
    const ord2 = withTorsion(keys[2]!, 0n, t2, 78n);
    expect([id.sig.R8x, id.sig.R8y]).toEqual([0n, 1n]);
    expect([wasm.verify(id), wasm.verify(ord2)]).toEqual([true, false]);
    const items = make(10);
    items.splice(4, 0, id, ord2);
    expect(wasm.verifyBatch(items)).toEqual(items.map((_, i) => i !== 5));
  });

  it("treats malformed items as false without disturbing the rest, across the 256-item chunking", () => {
    const items = make(300);
    items[0] = { ...items[0]!, msg: P };
    items[299] = { ...items[299]!, sig: { ...items[299]!.sig, S: L } };
    items[257] = { ...items[257]!, publicKey: { x: -1n, y: 0n } };
    const got = wasm.verifyBatch(items);
    expect(got.filter((x) => !x).length).toBe(3);
    expect([got[0], got[257], got[299]]).toEqual([false, false, false]);
  });
});

/** circomlibjs' secret scalar s (pruned blake512 of the key), to build a deliberately malformed signature. */
function scalarOf(key: Uint8Array): bigint {
  const blake = createRequire(import.meta.url)("blake-hash") as (alg: string) => {
    update(b: Uint8Array): { digest(): Uint8Array };
  };
  const h = blake("blake512").update(Buffer.from(key)).digest();
  h[0]! &= 0xf8;
  h[31] = (h[31]! & 0x7f) | 0x40;
  let s = 0n;
  for (let i = 31; i >= 0; i--) s = (s << 8n) | BigInt(h[i]!);
  return s;
}
