/**
 * The canonical input encoding (layout in abi.ts INPUT and docs/abi.md). Canonical means: the same set of readings,
 * epoch and config always encode to the same bytes, whatever order the caller passes them in.
 */
import { ABI_VERSION, INPUT } from "./abi.ts";
import { LITTLE_ENDIAN, u256IntoLE } from "./digest.ts";
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
  const b = new ArrayBuffer(8);
  new DataView(b).setBigInt64(0, param, true);
  return new Uint8Array(b);
}

export interface EncodeOptions {
  readings: readonly AppletReading[];
  epoch?: InputEpoch;
  config?: Uint8Array;
}

/** The canonical input bytes, in a new array the caller owns. */
export function encodeInput(opts: EncodeOptions): Uint8Array {
  return encode(opts, (size) => new Uint8Array(size));
}

// A run copies its input into the applet's memory and keeps nothing of it, so runModule encodes into one reused
// buffer: a fresh 56 KB array per run cost more (zeroing, first-touch page faults) than encoding 1,000 readings.
let scratch = new ArrayBuffer(0);
const SCRATCH_MAX = 8 << 20;

/** Like encodeInput, but the bytes live in a buffer the next call overwrites (runModule: encode → run → done). */
export function encodeInputTransient(opts: EncodeOptions): Uint8Array {
  return encode(opts, (size) => {
    // A rare huge epoch gets its own array rather than pinning a huge scratch buffer for the process's life.
    if (size > SCRATCH_MAX) return new Uint8Array(size);
    if (scratch.byteLength < size)
      scratch = new ArrayBuffer(Math.min(SCRATCH_MAX, Math.max(size, scratch.byteLength * 2, 4096)));
    return new Uint8Array(scratch, 0, size);
  });
}

// Readings are written through 64-bit typed arrays (an order of magnitude faster than DataView.setBigInt64 on
// Node 20); they store in platform byte order, so a big-endian host takes the DataView path.

function encode(opts: EncodeOptions, alloc: (size: number) => Uint8Array): Uint8Array {
  const epoch = opts.epoch ?? WHOLE_TIME;
  const config = opts.config ?? new Uint8Array(0);
  if (epoch.startMs < 0n || epoch.startMs > U64 || epoch.lengthMs < 0n || epoch.lengthMs > U64) {
    throw new RuntimeInputError(`epoch ${epoch.startMs}+${epoch.lengthMs} does not fit in u64 milliseconds`);
  }
  const given = opts.readings;
  // Readings usually arrive in (device, seq) order already (a chain is stored that way): they are written in the
  // order given, and sorted (then written again) only if that order turns out wrong: the grouping checks the device
  // order, the write each device's seqs (as numbers, cheaper than bigints).
  const { devices, ordered } = groupByDevice(given);
  if (ordered) {
    const out = write(alloc, epoch, config, given, devices);
    if (out) return out;
  }
  const sorted = [...given].sort((a, b) => cmp(a.deviceId, b.deviceId) || cmp(a.seq, b.seq));
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i]!.deviceId === sorted[i - 1]!.deviceId && sorted[i]!.seq === sorted[i - 1]!.seq) {
      throw new RuntimeInputError(`duplicate reading: device ${sorted[i]!.deviceId} seq ${sorted[i]!.seq}`, {
        details: "each (deviceId, seq) may appear once in an input",
      });
    }
  }
  return write(alloc, epoch, config, sorted, groupByDevice(sorted).devices)!;
}

/**
 * Runs of readings with the same deviceId, and whether those runs are in increasing deviceId order (the groups
 * describe the readings only if so). Checks each deviceId's range where it changes (it is 256 bits wide) and the
 * number of values of every reading.
 */
function groupByDevice(readings: readonly AppletReading[]): { devices: DeviceGroup[]; ordered: boolean } {
  let ordered = true;
  const devices: DeviceGroup[] = [];
  let last: DeviceGroup | undefined;
  for (let i = 0; i < readings.length; i++) {
    const r = readings[i]!;
    if (last !== undefined && last.id === r.deviceId) last.count++;
    else {
      if (typeof r.deviceId !== "bigint" || r.deviceId < 0n || r.deviceId > U256)
        throw readingError(r, "deviceId must fit in 256 bits");
      if (last !== undefined && last.id > r.deviceId) ordered = false;
      devices.push((last = { id: r.deviceId, first: i, count: 1 }));
    }
    if (r.values.length > INPUT.valueSlots)
      throw readingError(r, `at most ${INPUT.valueSlots} values, got ${r.values.length}`);
  }
  return { devices, ordered };
}

/** The whole encoding of readings grouped by device; null if some device's seqs are not strictly increasing. */
function write(
  alloc: (size: number) => Uint8Array,
  epoch: InputEpoch,
  config: Uint8Array,
  sorted: readonly AppletReading[],
  devices: readonly DeviceGroup[],
): Uint8Array | null {
  const configPadded = (config.length + 7) & ~7;
  const readingsAt = INPUT.headerBytes + devices.length * INPUT.deviceEntryBytes + configPadded;
  const out = alloc(readingsAt + sorted.length * INPUT.readingBytes);
  const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
  dv.setUint32(0, ABI_VERSION, true);
  dv.setUint32(4, sorted.length, true);
  dv.setUint32(8, devices.length, true);
  dv.setUint32(12, config.length, true);
  dv.setBigUint64(16, epoch.startMs, true);
  dv.setBigUint64(24, epoch.lengthMs, true);
  let o = INPUT.headerBytes;
  for (const d of devices) {
    u256IntoLE(d.id, out, o);
    dv.setUint32(o + 32, d.first, true);
    dv.setUint32(o + 36, d.count, true);
    o += INPUT.deviceEntryBytes;
  }
  out.set(config, o);
  out.fill(0, o + config.length, o + configPadded);
  const inOrder =
    LITTLE_ENDIAN && out.byteOffset % 8 === 0
      ? writeReadingsLE(out, readingsAt, sorted, devices)
      : writeReadingsDV(dv, readingsAt, sorted, devices);
  return inOrder ? out : null;
}

/**
 * Every byte of the readings area is written (the buffer may be reused). Offsets are multiples of 8. Returns false
 * if some device's seqs are not strictly increasing (compared as u32 halves once stored: numbers, not bigints).
 */
function writeReadingsLE(
  out: Uint8Array,
  at: number,
  sorted: readonly AppletReading[],
  devices: readonly { count: number }[],
): boolean {
  const n = sorted.length;
  const u32 = new Uint32Array(out.buffer, out.byteOffset + at, n * 14);
  const u64 = new BigUint64Array(out.buffer, out.byteOffset + at, n * 7);
  const i64 = new BigInt64Array(out.buffer, out.byteOffset + at, n * 7);
  let inOrder = true;
  let i = 0;
  for (let d = 0; d < devices.length; d++) {
    let prevHi = -1;
    let prevLo = -1;
    for (let end = i + devices[d]!.count; i < end; i++) {
      const r = sorted[i]!;
      const w = i * 7;
      u32[2 * w] = d;
      u32[2 * w + 1] = 0;
      u64[w + 1] = r.seq;
      u64[w + 2] = r.ts;
      const v = r.values;
      const v0 = v.length > 0 ? v[0]! : 0n;
      const v1 = v.length > 1 ? v[1]! : 0n;
      const v2 = v.length > 2 ? v[2]! : 0n;
      const v3 = v.length > 3 ? v[3]! : 0n;
      i64[w + 3] = v0;
      i64[w + 4] = v1;
      i64[w + 5] = v2;
      i64[w + 6] = v3;
      // The range check is the typed arrays' own conversion: a value outside u64/i64 wraps, so reading it back
      // differs (cheaper than BigInt.asUintN per field). checkReading then names the field.
      if (
        u64[w + 1] !== r.seq ||
        u64[w + 2] !== r.ts ||
        i64[w + 3] !== v0 ||
        i64[w + 4] !== v1 ||
        i64[w + 5] !== v2 ||
        i64[w + 6] !== v3
      )
        checkReading(r);
      const lo = u32[2 * w + 2]!;
      const hi = u32[2 * w + 3]!;
      if (hi < prevHi || (hi === prevHi && lo <= prevLo)) inOrder = false;
      prevHi = hi;
      prevLo = lo;
    }
  }
  return inOrder;
}

function writeReadingsDV(
  dv: DataView,
  at: number,
  sorted: readonly AppletReading[],
  devices: readonly { count: number }[],
): boolean {
  let inOrder = true;
  let i = 0;
  let o = at;
  for (let d = 0; d < devices.length; d++) {
    for (let end = i + devices[d]!.count, first = i; i < end; i++, o += INPUT.readingBytes) {
      const r = sorted[i]!;
      checkReading(r);
      if (i > first && sorted[i - 1]!.seq >= r.seq) inOrder = false;
      dv.setUint32(o, d, true);
      dv.setUint32(o + 4, 0, true);
      dv.setBigUint64(o + 8, r.seq, true);
      dv.setBigUint64(o + 16, r.ts, true);
      for (let s = 0; s < INPUT.valueSlots; s++) dv.setBigInt64(o + 24 + 8 * s, r.values[s] ?? 0n, true);
    }
  }
  return inOrder;
}

interface DeviceGroup {
  id: bigint;
  first: number;
  count: number;
}

function cmp(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// asUintN/asIntN round trips: about twice as fast as two comparisons against bigint bounds.
/** The ranges of seq, ts and values (the caller checked deviceId and the slot count). Throws for a bad reading. */
function checkReading(r: AppletReading): void {
  if (BigInt.asUintN(64, r.seq) !== r.seq) throw readingError(r, "seq must be a u64");
  if (BigInt.asUintN(64, r.ts) !== r.ts) throw readingError(r, "ts must be u64 milliseconds");
  const v = r.values;
  for (let s = 0; s < v.length; s++)
    if (BigInt.asIntN(64, v[s]!) !== v[s]) throw readingError(r, `value ${v[s]} is not an i64`);
}

function readingError(r: AppletReading, what: string): RuntimeInputError {
  return new RuntimeInputError(`reading (device ${r.deviceId}, seq ${r.seq}): ${what}`);
}
