/**
 * Production keys from a public ceremony's prepared ptau (e.g. Hermez powersOfTau28_hez_final_<n>.ptau): snarkjs
 * `zkey new`, one phase-2 contribution with fresh OS randomness from this machine, verification key and verifier.
 * One contribution is only as honest as this machine: real deployments add contributions from independent parties
 * (`snarkjs zkey contribute`) and a final public beacon before exporting (docs/circuits.md, "Production setup").
 */
import { randomBytes } from "node:crypto";
import { writeFileSync, rmSync } from "node:fs";
// @ts-expect-error snarkjs ships no types
import * as snarkjs from "snarkjs";
import { solidityVerifier, type DevKeyFiles } from "./dev-setup.ts";

export async function prodSetup(opts: {
  name: string;
  ptau: string;
  files: DevKeyFiles;
  contributor?: string;
}): Promise<void> {
  const initial = opts.files.zkey + ".init";
  const hash = await snarkjs.zKey.newZKey(opts.files.r1cs, opts.ptau, initial);
  if (!(hash instanceof Uint8Array))
    throw new Error(
      `snarkjs zkey new refused ${opts.ptau} for ${opts.name}: is it a prepared (phase 2) ptau with enough powers?`,
    );
  await snarkjs.zKey.contribute(
    initial,
    opts.files.zkey,
    opts.contributor ?? "machinefi operator",
    randomBytes(64).toString("hex"),
  );
  rmSync(initial, { force: true });
  const vkey = await snarkjs.zKey.exportVerificationKey(opts.files.zkey);
  writeFileSync(opts.files.vkey, JSON.stringify(vkey, null, 1) + "\n");
  writeFileSync(
    opts.files.solidity,
    (await solidityVerifier(opts.files.zkey, opts.name)).replace(
      /\/\/ DEV KEYS[^\n]*\n/,
      "// Keys from a ceremony ptau plus local phase-2 contribution(s).\n",
    ),
  );
}
