/**
 * Extends a device's signed hash chain: assigns seq, links prev, hashes and signs. Pure and synchronous; the client
 * makes the resulting chain state durable before anything is sent.
 */
import { genesisHash, hashReading, padValues } from "./chain.ts";
import type { EddsaBackend } from "./eddsa-api.ts";
import type { DeviceKey } from "./keys.ts";
import type { SignedReading } from "./wire.ts";
import { SdkError } from "./errors.ts";

/** Where the chain stands: the last seq used (0 before the first reading), its hash and its ts. */
export interface ChainState {
  seq: bigint;
  lastHash: bigint;
  /** ts of the last reading (undefined before the first, or for state saved before ts was kept). */
  lastTs?: bigint;
}

/** A reading's ts is below its predecessor's: the circuits assume ts never decreases along a chain, so the
 * gateway would refuse it; signing it would leave the device with a chain it cannot extend. */
export class TimestampOrderError extends SdkError {
  override name = "TimestampOrderError";
  constructor(
    readonly ts: bigint,
    readonly previousTs: bigint,
  ) {
    super(`ts ${ts} is below the previous reading's ts ${previousTs}`, {
      details: "timestamps must never decrease along a device's chain",
      metaMessages: ["Fix the device clock, or give this reading a ts at or after the previous one."],
    });
  }
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
  let { seq, lastHash, lastTs } = opts.state;
  // Check every ts first: nothing is signed unless the whole batch keeps the order.
  const tss = inputs.map((input) => BigInt(input.ts ?? now()));
  tss.forEach((ts, i) => {
    const before = i === 0 ? lastTs : tss[i - 1];
    if (before !== undefined && ts < before) throw new TimestampOrderError(ts, before);
  });
  const readings: SignedReading[] = [];
  inputs.forEach((input, i) => {
    seq += 1n;
    const reading = {
      deviceId: key.deviceId,
      seq,
      ts: tss[i]!,
      values: padValues(input.values.map((v) => BigInt(v))),
      prev: lastHash,
    };
    const hash = hashReading(reading);
    const sign = signMode === "every" || i === inputs.length - 1;
    readings.push({ ...reading, hash, signature: sign ? backend.sign(key.privateKey, hash) : null });
    lastHash = hash;
    lastTs = reading.ts;
  });
  return { readings, state: { seq, lastHash, ...(lastTs === undefined ? {} : { lastTs }) } };
}
