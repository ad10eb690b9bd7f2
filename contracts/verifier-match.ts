/**
 * Whether a deployed Groth16 verifier is the one of a given verifying key. A proof made with one key never verifies
 * against another: a prover holding the wrong key would spend a proof and a reverted transaction on every batch.
 * Dev keys come from a public seed and the circuit's name (circuits/setup/seed.ts), so α, β, γ and δ are the same for
 * every build of a name; the IC points are not: they follow the circuit's constraints, so circom's O1 and O2 builds of
 * one batch circuit (same name) differ there, as does any change to the circuit or a production setup (another δ).
 * snarkjs's Solidity export pushes every point as a constant, so the check reads the deployed code: the verifier's
 * ABI exposes no key.
 */

/** The part of a snarkjs verification_key.json the check reads. */
export interface VerifyingKeyPoints {
  vk_delta_2: string[][];
  /** [x, y, z] per public input and one more (z is 1: not pushed). */
  IC: string[][];
}

/** The PUSH of a constant as solc emits it: PUSHn (0x5f + n) and the value's n big-endian bytes, no leading zero. */
function pushOf(value: bigint): string {
  let hex = value.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  return (0x5f + hex.length / 2).toString(16) + hex;
}

/** Whether `code` (hex, deployed or creation bytecode) pushes every coordinate of the key's δ and IC points. */
export function codeHasVerifyingKey(code: string, vk: VerifyingKeyPoints): boolean {
  const lower = code.toLowerCase();
  const coords = [...vk.vk_delta_2[0]!, ...vk.vk_delta_2[1]!, ...vk.IC.flatMap((p) => [p[0]!, p[1]!])].map((v) =>
    BigInt(v),
  );
  return coords.length >= 6 && coords.every((v) => v > 0n && lower.includes(pushOf(v)));
}
