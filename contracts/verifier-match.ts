/**
 * Whether a deployed Groth16 verifier is the one of a given setup's keys. A circuit set up twice (dev keys come from a
 * fresh setup per build directory; circom's O1 and O2 are two circuits) has two verifying keys, and a proof made with
 * one never verifies against the other: a prover holding the wrong keys would spend a proof and a reverted
 * transaction on every batch. snarkjs's Solidity export pushes the key's points as constants, so the deployed code
 * holds δ (vk_delta_2): random per setup, it names the setup. Read from the code, not from the verifier's ABI, which
 * exposes no key.
 */

/** The part of a snarkjs verification_key.json the check reads. */
export interface VerifyingKeyDelta {
  vk_delta_2: string[][];
}

/** The PUSH of a constant as solc emits it: PUSHn (0x5f + n) and the value's n big-endian bytes, no leading zero. */
function pushOf(value: bigint): string {
  let hex = value.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  return (0x5f + hex.length / 2).toString(16) + hex;
}

/** Whether `code` (hex, deployed or creation bytecode) pushes each coordinate of the key's δ. */
export function codeHasVerifyingKey(code: string, vk: VerifyingKeyDelta): boolean {
  const lower = code.toLowerCase();
  const coords = [...vk.vk_delta_2[0]!, ...vk.vk_delta_2[1]!].map((v) => BigInt(v));
  return coords.length === 4 && coords.every((v) => v > 0n && lower.includes(pushOf(v)));
}
