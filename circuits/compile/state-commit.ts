/**
 * The state commitment of a stateful compiled applet (docs/circuits.md, "State between epochs"). The circuit fixes
 * the list of constant keys the applet's code touches, ordered by their bytes; for each key two field elements:
 * present (1 when the device's state has the key, else 0) and value (the stored 8 bytes read as an unsigned
 * little-endian integer, so an i64 −1 is 2^64 − 1; 0 when absent). The commitment is Poseidon(p₁, v₁, …, p_M, v_M)
 * (circomlib's Poseidon, M ≤ 8). The empty state is Poseidon of 2M zeros. Keys the applet does not touch are not
 * committed (the runtime keeps them; the circuit cannot change them).
 */
import * as P from "poseidon-lite";
import { StateEncodingError } from "./errors.ts";

export const byKeyBytes = (a: string, b: string) => Buffer.compare(Buffer.from(a, "hex"), Buffer.from(b, "hex"));

const HASH = [
  undefined,
  P.poseidon1,
  P.poseidon2,
  P.poseidon3,
  P.poseidon4,
  P.poseidon5,
  P.poseidon6,
  P.poseidon7,
  P.poseidon8,
  P.poseidon9,
  P.poseidon10,
  P.poseidon11,
  P.poseidon12,
  P.poseidon13,
  P.poseidon14,
  P.poseidon15,
  P.poseidon16,
] as const;

/** The 2M field elements of one device's state ({ key hex: value hex }, as runtime AppletState holds it). */
export function stateSlots(keys: readonly string[], state: Record<string, string> | undefined): bigint[] {
  const out: bigint[] = [];
  for (const k of keys) {
    const v = state?.[k];
    if (v === undefined) {
      out.push(0n, 0n);
      continue;
    }
    if (v.length !== 16)
      throw new StateEncodingError(
        `state key ${Buffer.from(k, "hex").toString()} holds ${v.length / 2} bytes; the circuit carries 8-byte values`,
      );
    out.push(1n, Buffer.from(v, "hex").readBigUInt64LE(0));
  }
  return out;
}

/** Poseidon over the slots of `keys` in `state` (a stateless applet, no keys, has no commitment: refused). */
export function stateCommitment(keys: readonly string[], state: Record<string, string> | undefined): bigint {
  const slots = stateSlots(keys, state);
  const h = HASH[slots.length];
  if (!h) throw new StateEncodingError(`no state commitment for ${keys.length} keys (1..8)`);
  return h(slots);
}

/** The commitment of a device with no state yet: what a first claim starts from. */
export function emptyStateCommitment(keys: readonly string[]): bigint {
  return stateCommitment(keys, undefined);
}
