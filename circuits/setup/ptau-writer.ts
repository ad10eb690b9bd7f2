/**
 * A prepared powers-of-tau file (snarkjs "ptau" with the Lagrange sections 12-15, as after `powersoftau prepare
 * phase2`) written directly from known tau, alpha, beta. The dev setup does not need it (zkey-writer.ts skips the
 * ptau); it exists so `snarkjs zkey new` and `snarkjs zkey verify` can check the direct zkeys against the same
 * secrets. INSECURE by construction: the secrets come from a public seed.
 */
import { writeFileSync } from "node:fs";
import { lagrangeAt, R } from "./field.ts";
import { binFile, le, Q, type Toxic } from "./zkey-writer.ts";
import type { FixedBasePool } from "./fixed-base.ts";

const u32 = (x: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(x);
  return b;
};

export async function writePtau(opts: {
  path: string;
  power: number;
  toxic: Toxic;
  pool: FixedBasePool;
}): Promise<void> {
  const { power, toxic, pool } = opts;
  const n = 1 << power;
  const powers = (count: number, scale = 1n) => {
    const out: bigint[] = new Array(count);
    for (let i = 0, t = scale % R; i < count; i++, t = (t * toxic.tau) % R) out[i] = t;
    return out;
  };
  const lem = async (g: "G1" | "G2", s: bigint[]) => Buffer.from((await pool.multiply(g, s)).lem);
  // Lagrange bases of every domain 2^0 .. 2^maxPow, concatenated, as snarkjs's prepare phase2 lays them out.
  const lagrange = (maxPow: number, scale: bigint) => {
    const all: bigint[] = [];
    for (let p = 0; p <= maxPow; p++) for (const l of lagrangeAt(toxic.tau, p, 1 << p)) all.push((l * scale) % R);
    return all;
  };
  const sections: [number, Buffer[]][] = [
    [1, [u32(32), le(Q), u32(power), u32(power)]],
    [2, [await lem("G1", powers(2 * n - 1))]],
    [3, [await lem("G2", powers(n))]],
    [4, [await lem("G1", powers(n, toxic.alpha))]],
    [5, [await lem("G1", powers(n, toxic.beta))]],
    [6, [await lem("G2", [toxic.beta])]],
    [7, [u32(0)]],
    [12, [await lem("G1", lagrange(power + 1, 1n))]],
    [13, [await lem("G2", lagrange(power, 1n))]],
    [14, [await lem("G1", lagrange(power, toxic.alpha))]],
    [15, [await lem("G1", lagrange(power, toxic.beta))]],
  ];
  writeFileSync(opts.path, binFile("ptau", sections));
}
