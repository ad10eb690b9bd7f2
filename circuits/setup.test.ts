/**
 * The direct dev setup against snarkjs itself, on a small circuit: the zkey written from known secrets is byte-equal
 * to what `snarkjs zkey new` writes from a ptau of the same secrets, `snarkjs zkey verify` accepts the phase-2 key,
 * proofs verify, and two runs give identical files.
 */
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
// @ts-expect-error snarkjs ships no types
import * as snarkjs from "snarkjs";
import { FixedBasePool } from "./setup/fixed-base.ts";
import { writeInitialZkey } from "./setup/zkey-writer.ts";
import { writePtau } from "./setup/ptau-writer.ts";
import { devSetup } from "./setup/dev-setup.ts";
import { prodSetup } from "./setup/prod-setup.ts";
import { devToxic, seedScalar, devBeaconHash, DEV_BEACON_ITERATIONS_EXP } from "./setup/seed.ts";
import { rootOfUnity, lagrangeAt, mod, pow, R } from "./setup/field.ts";
import { closeProver } from "./prover.ts";

const require = createRequire(import.meta.url);
const TOY = `pragma circom 2.1.0;
template Toy() {
  signal input a; signal input b; signal input c;
  signal input x; signal input y;
  signal t <== x * y;
  signal u <== t * x + a;
  c === u * b;
  signal v <== x * x;
  signal w <== v * y;
}
component main {public [a, b, c]} = Toy();
`;

let dir: string;
let pool: FixedBasePool;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "mfi-setup-"));
  writeFileSync(join(dir, "toy.circom"), TOY);
  const r = spawnSync(
    process.execPath,
    [require.resolve("circom2/cli.js"), "toy.circom", "--r1cs", "--wasm", "--O2", "-o", "."],
    { cwd: dir, encoding: "utf8" },
  );
  if (r.status !== 0) throw new Error(r.stdout + r.stderr);
  pool = new FixedBasePool(2);
});
afterAll(async () => {
  await pool.close();
  await closeProver();
  rmSync(dir, { recursive: true, force: true });
});

describe("field helpers", () => {
  it("roots of unity have exact order 2^k and the Lagrange basis sums to 1 and interpolates", () => {
    for (const k of [1, 3, 10]) {
      const w = rootOfUnity(k);
      expect(pow(w, 1n << BigInt(k))).toBe(1n);
      expect(pow(w, 1n << BigInt(k - 1))).toBe(R - 1n);
    }
    const tau = seedScalar("test");
    const L = lagrangeAt(tau, 3, 8);
    expect(mod(L.reduce((a, b) => a + b, 0n))).toBe(1n);
    // sum_i w^i L_i(tau) = tau (interpolating x)
    const w = rootOfUnity(3);
    expect(mod(L.reduce((a, l, i) => a + l * pow(w, BigInt(i)), 0n))).toBe(tau);
  });
});

describe("direct dev setup vs snarkjs", { timeout: 240_000 }, () => {
  it("writes the same initial zkey as snarkjs zkey new from an equivalent ptau", async () => {
    const toxic = devToxic();
    await writePtau({ path: join(dir, "toy.ptau"), power: 4, toxic, pool });
    await writeInitialZkey({ r1csPath: join(dir, "toy.r1cs"), zkeyPath: join(dir, "direct.zkey"), toxic, pool });
    await snarkjs.zKey.newZKey(join(dir, "toy.r1cs"), join(dir, "toy.ptau"), join(dir, "snarkjs.zkey"));
    expect(readFileSync(join(dir, "direct.zkey")).equals(readFileSync(join(dir, "snarkjs.zkey")))).toBe(true);
  });

  it("produces a phase-2 key snarkjs zkey verify accepts, that proves and verifies, reproducibly", async () => {
    const files = (p: string) => ({
      r1cs: join(dir, "toy.r1cs"),
      zkey: join(dir, `${p}.zkey`),
      vkey: join(dir, `${p}.vkey.json`),
      solidity: join(dir, `${p}.sol`),
    });
    await devSetup({ name: "toy", files: files("one"), pool });
    await devSetup({ name: "toy", files: files("two"), pool });
    for (const f of ["zkey", "vkey", "solidity"] as const)
      expect(readFileSync(files("one")[f]).equals(readFileSync(files("two")[f]))).toBe(true);
    expect(readFileSync(files("one").solidity, "utf8")).toContain("contract Groth16Verifier_toy");
    expect(await snarkjs.zKey.verifyFromR1cs(join(dir, "toy.r1cs"), join(dir, "toy.ptau"), files("one").zkey)).toBe(
      true,
    );
    // Splicing pre-divided C and H into the beacon's output equals running the beacon over the full zkey.
    await writeInitialZkey({
      r1csPath: join(dir, "toy.r1cs"),
      zkeyPath: join(dir, "full.init"),
      toxic: devToxic(),
      pool,
    });
    await snarkjs.zKey.beacon(
      join(dir, "full.init"),
      join(dir, "full.zkey"),
      "machinefi dev beacon (INSECURE) toy",
      devBeaconHash("toy"),
      DEV_BEACON_ITERATIONS_EXP,
    );
    expect(readFileSync(files("one").zkey).equals(readFileSync(join(dir, "full.zkey")))).toBe(true);

    const vk = JSON.parse(readFileSync(files("one").vkey, "utf8"));
    const x = 3n,
      y = 5n,
      a = 7n,
      b = 11n;
    const c = (x * y * x + a) * b;
    const { proof, publicSignals } = await snarkjs.groth16.fullProve(
      { a, b, c, x, y },
      join(dir, "toy_js", "toy.wasm"),
      files("one").zkey,
    );
    expect(publicSignals).toEqual([a, b, c].map(String));
    expect(await snarkjs.groth16.verify(vk, publicSignals, proof)).toBe(true);
    expect(await snarkjs.groth16.verify(vk, [a, b, c + 1n].map(String), proof)).toBe(false);
    // A different seed gives different keys: the seed really is the setup.
    await devSetup({ name: "toy", files: files("other"), pool, seed: "another seed" });
    expect(readFileSync(files("other").zkey).equals(readFileSync(files("one").zkey))).toBe(false);
  });

  it("production keys: a ceremony-style ptau plus a random phase-2 contribution (not reproducible, by design)", async () => {
    const files = (p: string) => ({
      r1cs: join(dir, "toy.r1cs"),
      zkey: join(dir, `${p}.zkey`),
      vkey: join(dir, `${p}.vkey.json`),
      solidity: join(dir, `${p}.sol`),
    });
    await prodSetup({ name: "toy", ptau: join(dir, "toy.ptau"), files: files("prod") });
    expect(await snarkjs.zKey.verifyFromR1cs(join(dir, "toy.r1cs"), join(dir, "toy.ptau"), files("prod").zkey)).toBe(
      true,
    );
    const { proof, publicSignals } = await snarkjs.groth16.fullProve(
      { a: 1n, b: 2n, c: 8n, x: 1n, y: 3n },
      join(dir, "toy_js", "toy.wasm"),
      files("prod").zkey,
    );
    expect(
      await snarkjs.groth16.verify(JSON.parse(readFileSync(files("prod").vkey, "utf8")), publicSignals, proof),
    ).toBe(true);
    expect(readFileSync(files("prod").solidity, "utf8")).not.toContain("DEV KEYS");
    await expect(prodSetup({ name: "toy", ptau: join(dir, "missing.ptau"), files: files("bad") })).rejects.toThrow();
  });
});
