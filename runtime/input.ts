/**
 * The canonical input encoding (layout in abi.ts INPUT and docs/abi.md). Canonical means: the same set of readings,
 * epoch and config always encode to the same bytes, whatever order the caller passes them in.
 */
import { ABI_VERSION, INPUT } from "./abi.ts";
import { u256ToLE } from "./digest.ts";
import { RuntimeInputError } from "./errors.ts";

/** What an applet sees of a reading (the chain's `prev` hash is not part of the input). */
export interface AppletReading {
  deviceId: bigint;
  seq: bigint;
  ts: bigint;
  /** Up to 4 signed i64 values; missing slots are 0. */
  values: readonly bigint[];
}

export interface InputEpoch {
  startMs: bigint;
  lengthMs: bigint;
}

/** With no epoch given, the window covers every valid timestamp [0, 2^48). */
export const WHOLE_TIME: InputEpoch = { startMs: 0n, lengthMs: 1n << 48n };

const U64 = (1n << 64n) - 1n;
const I64_MIN = -(1n << 63n);
const I64_MAX = (1n << 63n) - 1n;
const U256 = (1n << 256n) - 1n;

/** Config blob for a manifest `param` (e.g. a threshold): one i64, little-endian. */
export function paramConfig(param: bigint | undefined): Uint8Array {
  if (param === undefined) return new Uint8Array(0);
  if (param < I64_MIN || param > I64_MAX) throw new RuntimeInputError(`param ${param} does not fit in an i64`);
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigInt64(0, param, true);
  return b;
}

export function encodeInput(opts: { readings: readonly AppletReading[]; epoch?: InputEpoch; config?: Uint8Array }): Uint8Array {
  const epoch = opts.epoch ?? WHOLE_TIME;
  const config = opts.config ?? new Uint8Array(0);
  if (epoch.startMs < 0n || epoch.startMs > U64 || epoch.lengthMs < 0n || epoch.lengthMs > U64) {
    throw new RuntimeInputError(`epoch ${epoch.startMs}+${epoch.lengthMs} does not fit in u64 milliseconds`);
  }
  for (const r of opts.readings) checkReading(r);
  const sorted = [...opts.readings].sort((a, b) => cmp(a.deviceId, b.deviceId) || cmp(a.seq, b.seq));
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i]!.deviceId === sorted[i - 1]!.deviceId && sorted[i]!.seq === sorted[i - 1]!.seq) {
      throw new RuntimeInputError(`duplicate reading: device ${sorted[i]!.deviceId} seq ${sorted[i]!.seq}`, { details: "each (deviceId, seq) may appear once in an input" });
    }
  }
  const devices: { id: bigint; first: number; count: number }[] = [];
  sorted.forEach((r, i) => {
    const last = devices[devices.length - 1];
    if (last && last.id === r.deviceId) last.count++;
    else devices.push({ id: r.deviceId, first: i, count: 1 });
  });
  const configPadded = (config.length + 7) & ~7;
  const size = INPUT.headerBytes + devices.length * INPUT.deviceEntryBytes + configPadded + sorted.length * INPUT.readingBytes;
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, ABI_VERSION, true);
  dv.setUint32(4, sorted.length, true);
  dv.setUint32(8, devices.length, true);
  dv.setUint32(12, config.length, true);
  dv.setBigUint64(16, epoch.startMs, true);
  dv.setBigUint64(24, epoch.lengthMs, true);
  let o = INPUT.headerBytes;
  const deviceIndex = new Map<bigint, number>();
  devices.forEach((d, i) => {
    out.set(u256ToLE(d.id), o);
    dv.setUint32(o + 32, d.first, true);
    dv.setUint32(o + 36, d.count, true);
    deviceIndex.set(d.id, i);
    o += INPUT.deviceEntryBytes;
  });
  out.set(config, o);
  o += configPadded;
  for (const r of sorted) {
    dv.setUint32(o, deviceIndex.get(r.deviceId)!, true);
    dv.setBigUint64(o + 8, r.seq, true);
    dv.setBigUint64(o + 16, r.ts, true);
    for (let s = 0; s < INPUT.valueSlots; s++) dv.setBigInt64(o + 24 + 8 * s, r.values[s] ?? 0n, true);
    o += INPUT.readingBytes;
  }
  return out;
}

function cmp(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function checkReading(r: AppletReading): void {
  const where = `reading (device ${r.deviceId}, seq ${r.seq})`;
  if (r.deviceId < 0n || r.deviceId > U256) throw new RuntimeInputError(`${where}: deviceId must fit in 256 bits`);
  if (r.seq < 0n || r.seq > U64) throw new RuntimeInputError(`${where}: seq must be a u64`);
  if (r.ts < 0n || r.ts > U64) throw new RuntimeInputError(`${where}: ts must be u64 milliseconds`);
  if (r.values.length > INPUT.valueSlots) throw new RuntimeInputError(`${where}: at most ${INPUT.valueSlots} values, got ${r.values.length}`);
  for (const v of r.values) if (v < I64_MIN || v > I64_MAX) throw new RuntimeInputError(`${where}: value ${v} is not an i64`);
}
