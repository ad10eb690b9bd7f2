/**
 * Extends a device's signed hash chain: assigns seq, links prev, hashes and signs. Pure and synchronous; the client
 * makes the resulting chain state durable before anything is sent.
 */
import { genesisHash, hashReading, padValues } from "./chain.ts";
import type { EddsaBackend } from "./eddsa-api.ts";
import type { DeviceKey } from "./keys.ts";
import type { SignedReading } from "./wire.ts";

/** Where the chain stands: the last seq used (0 before the first reading) and its hash. */
export interface ChainState {
  seq: bigint;
  lastHash: bigint;
}

/** Sign every reading, or only the last reading of each batch (one signature vouches for the chain behind it). */
export type SignMode = "every" | "last";

export interface ReadingInput {
  /** Unix milliseconds; defaults to the client's clock. */
  ts?: bigint | number;
  /** Up to VALUE_SLOTS integers (fixed-point); missing slots are 0. */
  values: readonly (bigint | number)[];
}

export function initialChainState(deviceId: bigint): ChainState {
  return { seq: 0n, lastHash: genesisHash(deviceId) };
}

/** Build the next links of the chain from `state`; returns the readings and the state after them. */
export function extendChain(opts: {
  backend: EddsaBackend;
  key: DeviceKey;
  state: ChainState;
  inputs: readonly ReadingInput[];
  signMode?: SignMode;
  now?: () => number;
}): { readings: SignedReading[]; state: ChainState } {
  const { backend, key, inputs, signMode = "every", now = Date.now } = opts;
  let { seq, lastHash } = opts.state;
  const readings: SignedReading[] = [];
  inputs.forEach((input, i) => {
    seq += 1n;
    const reading = {
      deviceId: key.deviceId,
      seq,
      ts: BigInt(input.ts ?? now()),
      values: padValues(input.values.map((v) => BigInt(v))),
      prev: lastHash,
    };
    const hash = hashReading(reading);
    const sign = signMode === "every" || i === inputs.length - 1;
    readings.push({ ...reading, hash, signature: sign ? backend.sign(key.privateKey, hash) : null });
    lastHash = hash;
  });
  return { readings, state: { seq, lastHash } };
}
