/** BN254 scalar field (the BabyJubJub base field): every chain value and public signal lives below it. */
import { imageIdToBigInt, parseImageId } from "../core/index.ts";
export const SNARK_FIELD = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;

/** Largest value a reading slot may hold: values are signed i64 in the runtime, non-negative below 2^63 on the chain. */
export const MAX_VALUE = (1n << 63n) - 1n;
export const MIN_VALUE = -(1n << 63n);

/** Map a signed i64 value to its field element (two's complement would break order, so negatives wrap modulo the field). */
export function toField(x: bigint): bigint {
  const r = x % SNARK_FIELD;
  return r < 0n ? r + SNARK_FIELD : r;
}

/** imageId (sha256 of the applet's Wasm, 32 bytes) reduced into the field, as the circuits and PayoutVault use it. */
export function imageIdToField(imageId: Uint8Array | string): bigint {
  return imageIdToBigInt(parseImageId(imageId)) % SNARK_FIELD;
}
