/**
 * From a device's readings to the circuit input: picks the segment (the reading before the epoch, every reading in
 * it, and the readings after it up to the first signed one), checks it is one unbroken chain, and lays it out in K
 * slots. The layout mirrors circuits/readings.circom; docs/circuits.md explains why it is sound.
 */
import {
  hashReading,
  genesisHash,
  deviceIdOf,
  padValues,
  toField,
  type Reading,
  type PublicKey,
  type Signature,
  type EpochWindow,
} from "../device-sdk/index.ts";
import { SegmentError, EmptyEpochError } from "./errors.ts";

/** A chain link as stored: the signature is present only where the device signed. */
export interface ChainReading extends Reading {
  signature?: Signature | null;
}

export interface ChainSegment {
  before?: ChainReading;
  /** Inside readings, then trailing ones up to and including the signed reading at or after the epoch's end. */
  slots: ChainReading[];
  insideCount: number;
}

const fmt = (r: Reading) => `seq ${r.seq} (ts ${r.ts})`;

export function selectSegment(readings: readonly ChainReading[], publicKey: PublicKey, w: EpochWindow): ChainSegment {
  const deviceId = deviceIdOf(publicKey);
  const sorted = [...readings].sort((a, b) => (a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : 0));
  for (const r of sorted) {
    if (r.deviceId !== deviceId)
      throw new SegmentError(`reading ${fmt(r)} belongs to device ${r.deviceId}, not to the key's device ${deviceId}`, {
        details: "pass only the proving device's readings",
      });
  }
  const end = w.startMs + w.lengthMs;
  const first = sorted.findIndex((r) => r.ts >= w.startMs && r.ts < end);
  if (first < 0)
    throw new EmptyEpochError(
      `device ${deviceId} has no reading in [${w.startMs}, ${end}): an empty epoch makes no claim`,
    );
  const bySeq = new Map(sorted.map((r) => [r.seq, r]));
  const head = sorted[first]!;
  let before: ChainReading | undefined;
  if (head.seq > 1n) {
    before = bySeq.get(head.seq - 1n);
    if (!before)
      throw new SegmentError(`the reading before the epoch (seq ${head.seq - 1n}) is missing`, {
        details: "the proof shows that reading lies before the epoch, so nothing was left out: include it",
      });
    if (before.ts >= w.startMs)
      throw new SegmentError(
        `reading ${fmt(before)} precedes the epoch's first reading but is not before the epoch start ${w.startMs}`,
        { details: "ts must be non-decreasing along the chain" },
      );
  }
  const slots: ChainReading[] = [];
  let insideCount = 0;
  for (let seq = head.seq; ; seq++) {
    const r = bySeq.get(seq);
    if (!r) {
      if (slots.length && slots[slots.length - 1]!.ts >= end)
        throw new SegmentError(
          `no signed reading at or after the epoch end ${end} yet (chain stops at seq ${seq - 1n} without a signature)`,
          {
            details: "the epoch is proven only once the device has signed a reading after it: wait for it, then prove",
          },
        );
      throw new SegmentError(`the chain has a gap or stops at seq ${seq} before the epoch is closed`, {
        details: `pass every reading from seq ${head.seq} up to the first signed reading at or after ${end}`,
      });
    }
    if (r.ts < w.startMs || (r.ts < end && slots.length > insideCount))
      throw new SegmentError(`reading ${fmt(r)} breaks the non-decreasing ts order around the epoch`, {
        details: "ts must be non-decreasing along the chain",
      });
    slots.push(r);
    if (r.ts < end) insideCount++;
    else if (r.signature) break;
  }
  // Every link must hash to the next one's prev (a fork or a tampered reading shows up here, before proving).
  let prev = before ? hashReading(before) : genesisHash(deviceId);
  for (const r of slots) {
    if (r.prev !== prev)
      throw new SegmentError(
        `reading ${fmt(r)} does not extend the chain (its prev is not the previous reading's hash)`,
        { details: "a fork or a tampered reading: prove from the readings the gateway stored" },
      );
    prev = hashReading(r);
  }
  return { before, slots, insideCount };
}

export type CircuitInput = Record<string, string | string[] | string[][]>;

/** The witness input of readings_<reducer>_<k>, all values as decimal strings. */
export function readingsInput(opts: {
  segment: ChainSegment;
  k: number;
  publicKey: PublicKey;
  imageIdField: bigint;
  epoch: bigint;
  output: bigint;
  param?: bigint;
}): CircuitInput {
  const { segment, k, publicKey } = opts;
  const last = segment.slots[segment.slots.length - 1]!;
  const sig = last.signature!;
  const s = (x: bigint) => x.toString();
  const b = segment.before;
  const input: CircuitInput = {
    imageId: s(opts.imageIdField),
    deviceId: s(deviceIdOf(publicKey)),
    epoch: s(opts.epoch),
    claimOutput: s(opts.output),
    ...(opts.param !== undefined ? { threshold: s(opts.param) } : {}),
    Ax: s(publicKey.x),
    Ay: s(publicKey.y),
    S: s(sig.S),
    R8x: s(sig.R8x),
    R8y: s(sig.R8y),
    hasBefore: b ? "1" : "0",
    beforeSeq: s(b?.seq ?? 0n),
    beforeTs: s(b?.ts ?? 0n),
    beforeValues: padValues(b?.values ?? []).map((v) => s(toField(v))),
    beforePrev: s(b?.prev ?? 0n),
    enabled: [],
    inside: [],
    ts: [],
    values: [],
  };
  for (let i = 0; i < k; i++) {
    const r = segment.slots[i];
    (input.enabled as string[]).push(r ? "1" : "0");
    (input.inside as string[]).push(i < segment.insideCount ? "1" : "0");
    (input.ts as string[]).push(s(r?.ts ?? 0n));
    (input.values as string[][]).push(padValues(r?.values ?? []).map((v) => s(toField(v))));
  }
  return input;
}
