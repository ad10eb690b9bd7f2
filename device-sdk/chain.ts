/**
 * The signed hash chain: the one definition shared by device-sdk, gateway, runtime and circuits.
 *
 *   h_0   = Poseidon(deviceId)
 *   h_seq = Poseidon(deviceId, seq, ts, v_0, v_1, v_2, v_3, h_{seq-1})      (8 inputs, circomlib parameters)
 *
 * seq starts at 1 and grows by exactly 1. ts is Unix time in milliseconds (0 <= ts < 2^48), non-decreasing.
 * values has exactly VALUE_SLOTS integers (unused slots are 0), each in [MIN_VALUE, MAX_VALUE];
 * negative values enter the hash as field elements (toField). circuits/readings.circom mirrors this exactly.
 */
import { poseidon1, poseidon2, poseidon3, poseidon8 } from "poseidon-lite";
import { MAX_VALUE, MIN_VALUE, toField } from "./field.ts";
import { SdkError } from "./errors.ts";

export const VALUE_SLOTS = 4;
export const MAX_TS = (1n << 48n) - 1n;

/** One device measurement: a link in the device's chain. Integers only (fixed-point). */
export interface Reading {
  deviceId: bigint;
  seq: bigint;
  ts: bigint;
  values: bigint[];
  /** h_{seq-1}: the hash of the previous reading, or genesisHash(deviceId) for seq = 1. */
  prev: bigint;
}

/** Pluggable Poseidon so the fast Wasm implementation can replace poseidon-lite behind the same interface. */
export interface PoseidonImpl {
  hash1(a: bigint): bigint;
  hash8(inputs: readonly bigint[]): bigint;
}

export const jsPoseidon: PoseidonImpl = {
  hash1: (a) => poseidon1([a]),
  hash8: (inputs) => poseidon8(inputs as bigint[]),
};

let active: PoseidonImpl = jsPoseidon;
/** Swap the Poseidon implementation used by the chain (e.g. for the Wasm one). Must be bit-exact with circomlib. */
export function setPoseidon(impl: PoseidonImpl): void {
  active = impl;
}

export function genesisHash(deviceId: bigint): bigint {
  return active.hash1(deviceId);
}

export class ReadingShapeError extends SdkError {
  override name = "ReadingShapeError";
}

/** Throws ReadingShapeError when a reading cannot be a chain link (bad slot count, range, seq or ts). */
export function assertReadingShape(r: Reading): void {
  if (r.values.length !== VALUE_SLOTS)
    throw new ReadingShapeError(`a reading has exactly ${VALUE_SLOTS} values (pad with 0), got ${r.values.length}`);
  for (const v of r.values)
    if (v < MIN_VALUE || v > MAX_VALUE) throw new ReadingShapeError(`value ${v} is outside the i64 range`);
  if (r.seq < 1n || r.seq > MAX_TS) throw new ReadingShapeError(`seq ${r.seq} must be in [1, 2^48)`);
  if (r.ts < 0n || r.ts > MAX_TS) throw new ReadingShapeError(`ts ${r.ts} must be Unix milliseconds in [0, 2^48)`);
}

/** h_seq of a reading (its own hash, which the device signs). */
export function hashReading(r: Reading): bigint {
  assertReadingShape(r);
  return active.hash8([r.deviceId, r.seq, r.ts, ...r.values.map(toField), r.prev]);
}

/** Pad or check values to VALUE_SLOTS. */
export function padValues(values: readonly bigint[]): bigint[] {
  if (values.length > VALUE_SLOTS)
    throw new ReadingShapeError(`at most ${VALUE_SLOTS} values per reading, got ${values.length}`);
  return [...values, ...Array<bigint>(VALUE_SLOTS - values.length).fill(0n)];
}

/**
 * What a device signs to register: Poseidon(owner, chainId, registry) with owner and registry as 160-bit addresses.
 * circuits/register.circom proves a signature over exactly this, for DeviceRegistry.
 */
export function registrationMessage(owner: bigint, chainId: bigint, registry: bigint): bigint {
  return poseidon3([owner, chainId, registry]);
}

/** deviceId = Poseidon(Ax, Ay) of the device's BabyJubJub public key. */
export function deviceIdOf(publicKey: { x: bigint; y: bigint }): bigint {
  return poseidon2([publicKey.x, publicKey.y]);
}
