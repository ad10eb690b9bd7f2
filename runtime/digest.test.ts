import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { leToU256, u256IntoLE, u256ToLE } from "./digest.ts";

/** The definition: byte i of x mod 2^256. */
function reference(x: bigint): Uint8Array {
  const v = BigInt.asUintN(256, x);
  return Uint8Array.from({ length: 32 }, (_, i) => Number((v >> BigInt(8 * i)) & 0xffn));
}

describe("u256ToLE", () => {
  it("gives the 32 little-endian bytes of x mod 2^256, for any bigint", () => {
    for (const x of [
      0n,
      1n,
      255n,
      256n,
      (1n << 64n) - 1n,
      1n << 64n,
      (1n << 256n) - 1n,
      1n << 256n,
      -1n,
      -(1n << 255n),
      10n ** 70n,
    ]) {
      expect(u256ToLE(x)).toEqual(reference(x));
    }
    fc.assert(
      fc.property(fc.bigInt({ min: -(1n << 300n), max: 1n << 300n }), (x) => {
        expect(u256ToLE(x)).toEqual(reference(x));
      }),
    );
  });

  it("round-trips with leToU256 in [0, 2^256) and writes only its 32 bytes", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 256n) - 1n }), (x) => {
        expect(leToU256(u256ToLE(x))).toBe(x);
      }),
    );
    const out = new Uint8Array(40).fill(0xaa);
    u256IntoLE(1n, out, 4);
    expect([...out.subarray(0, 4), ...out.subarray(36)]).toEqual(Array(8).fill(0xaa));
    expect([...out.subarray(4, 36)]).toEqual([1, ...Array(31).fill(0)]);
  });
});

describe("taggedDigest", () => {
  it("is sha256(tag ‖ parts) whether it hashes in one shot (small) or streams (large)", async () => {
    const { createHash } = await import("node:crypto");
    const { taggedDigest } = await import("./digest.ts");
    for (const sizes of [[], [0], [3, 40], [4000], [4090, 10], [70_000], [1, 2, 3, 5000]]) {
      const parts = sizes.map((n, k) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + k) & 0xff));
      for (const tag of ["mfi.input.v1", "tag-é"]) {
        const h = createHash("sha256").update(tag);
        parts.forEach((p) => h.update(p));
        expect(taggedDigest(tag, ...parts), `${tag} ${sizes}`).toBe(h.digest("hex"));
      }
    }
  });
});
