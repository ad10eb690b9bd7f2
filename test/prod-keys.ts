/**
 * Keys that stand in for a production build (build/circuits-prod/) in tests: the dev keys plus one phase-2
 * contribution with fresh randomness (snarkjs zkey contribute), so δ is no longer the public seed's and the dev
 * forgery (test/forge.ts) fails against them. A real production build starts from a ceremony ptau instead
 * (scripts/build-circuits.ts --ptau); this costs seconds instead of a ptau download.
 */
import { cpSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
// @ts-expect-error snarkjs ships no types
import * as snarkjs from "snarkjs";
import { artifactsOf, BUILD_DIR } from "../circuits/index.ts";
import { solidityVerifier } from "../circuits/setup/dev-setup.ts";

/** Writes <buildDir>/<name>/ (wasm, r1cs, zkey, verification key, Solidity verifier) with a fresh δ. */
export async function prodLikeKeys(name: string, buildDir: string): Promise<void> {
  const dev = artifactsOf(name, BUILD_DIR);
  const prod = artifactsOf(name, buildDir);
  cpSync(dev.dir, prod.dir, { recursive: true });
  await snarkjs.zKey.contribute(dev.zkey, prod.zkey, "test operator", randomBytes(64).toString("hex"));
  writeFileSync(prod.vkey, JSON.stringify(await snarkjs.zKey.exportVerificationKey(prod.zkey), null, 1) + "\n");
  writeFileSync(
    prod.solidity,
    (await solidityVerifier(prod.zkey, name)).replace(
      /\/\/ DEV KEYS[^\n]*\n/,
      "// Test keys: dev keys plus one random phase-2 contribution.\n",
    ),
  );
  writeFileSync(join(prod.dir, "manifest.json"), JSON.stringify({ name, insecureDevSetup: false }) + "\n");
}
