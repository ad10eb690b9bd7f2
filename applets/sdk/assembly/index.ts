/**
 * The machinefi applet SDK (AssemblyScript). Integers only: values are i64 fixed point, outputs u64.
 * Input layout: runtime/abi.ts INPUT / docs/abi.md. An applet exports `mfi_main` and calls the helpers below.
 */
import * as env from "./env";

const HEADER: u32 = 32;
const DEVICE_ENTRY: u32 = 40;
const READING: u32 = 56;
export const ABI_VERSION: u32 = 1;

// The input is copied into the applet's memory once, when the module initialises (the host runs `_initialize`
// before `mfi_main`; this top-level code is part of it), so every accessor below is a plain load from `base` or
// `rbase` with no "loaded yet?" test: that test, repeated in every accessor of a hot loop, cost more than the loop.
let base: usize = 0;
let rbase: usize = 0;

function loadInput(): void {
  const len = env.input_len();
  const buf = new ArrayBuffer(len);
  base = changetype<usize>(buf);
  env.input_read(base, 0, <u32>len);
  if (<u32>len < HEADER || load<u32>(base) != ABI_VERSION) abortWith("input ABI version mismatch");
  rbase = base + HEADER + <usize>load<u32>(base, 8) * DEVICE_ENTRY + ((<usize>load<u32>(base, 12) + 7) & ~7);
}
loadInput();

/** Allocation-free accessors by reading index (for hot loops). */
@inline export function readingTs(i: u32): u64 {
  return load<u64>(rbase + <usize>i * READING, 16);
}
@inline export function readingValue(i: u32, slot: u32): i64 {
  return load<i64>(rbase + <usize>i * READING + 24 + (<usize>(slot & 3) << 3));
}
@inline export function readingSeq(i: u32): u64 {
  return load<u64>(rbase + <usize>i * READING, 8);
}
@inline export function inEpoch(ts: u64): bool {
  const start = epochStart();
  return ts >= start && ts - start < epochLength();
}

/** A device of this epoch's input: its 32-byte id (little-endian) and its readings, in seq order. */
export class Device {
  constructor(public index: u32) {}
  /** Pointer to the 32-byte little-endian deviceId in memory (what claim/state take). */
  get idPtr(): usize {
    return base + HEADER + <usize>this.index * DEVICE_ENTRY;
  }
  /** A compact id for logs: the low 64 bits of the deviceId. */
  get shortId(): u64 {
    return load<u64>(this.idPtr);
  }
  get firstReading(): u32 {
    return load<u32>(this.idPtr, 32);
  }
  get readingCount(): u32 {
    return load<u32>(this.idPtr, 36);
  }
  reading(i: u32): Reading {
    return new Reading(this.firstReading + i);
  }
}

/** One reading, read straight from the input bytes (no copies). */
export class Reading {
  constructor(public index: u32) {}
  @inline get ptr(): usize {
    return rbase + <usize>this.index * READING;
  }
  get deviceIndex(): u32 {
    return load<u32>(this.ptr);
  }
  get device(): Device {
    return new Device(this.deviceIndex);
  }
  get seq(): u64 {
    return load<u64>(this.ptr, 8);
  }
  get ts(): u64 {
    return load<u64>(this.ptr, 16);
  }
  value(slot: u32): i64 {
    if (slot >= 4) abortWith("value slot out of range");
    return load<i64>(this.ptr + 24 + (<usize>slot << 3));
  }
  get inEpoch(): bool {
    return inEpoch(this.ts);
  }
}

export function readingCount(): u32 {
  return load<u32>(base, 4);
}
export function deviceCount(): u32 {
  return load<u32>(base, 8);
}
@inline export function epochStart(): u64 {
  return load<u64>(base, 16);
}
@inline export function epochLength(): u64 {
  return load<u64>(base, 24);
}
export function device(i: u32): Device {
  return new Device(i);
}
export function devices(): Device[] {
  const n = deviceCount();
  const out = new Array<Device>(n);
  for (let i: u32 = 0; i < n; i++) out[i] = new Device(i);
  return out;
}
export function readings(): Reading[] {
  const n = readingCount();
  const out = new Array<Reading>(n);
  for (let i: u32 = 0; i < n; i++) out[i] = new Reading(i);
  return out;
}

/** The config blob's length and its first i64 (a manifest `param`, e.g. a threshold), or `fallback`. */
export function configLength(): u32 {
  return load<u32>(base, 12);
}
export function configParam(fallback: i64): i64 {
  if (configLength() < 8) return fallback;
  return load<i64>(base + HEADER + <usize>deviceCount() * DEVICE_ENTRY);
}

export function log(message: string): void {
  const buf = String.UTF8.encode(message);
  env.log(changetype<usize>(buf), buf.byteLength);
}

/** Append an opaque record to the journal. */
export function emit(bytes: Uint8Array): void {
  env.emit(bytes.dataStart, bytes.byteLength);
}
export function emitText(text: string): void {
  const buf = String.UTF8.encode(text);
  env.emit(changetype<usize>(buf), buf.byteLength);
}

/**
 * Append a record of four little-endian i64 words from a static buffer. Nothing is allocated and nothing is
 * formatted, so a record emitted under a reading-dependent branch stays provable: a compiled applet's circuit skips
 * records, but text whose length depends on readings (`v.toString()`) cannot be compiled (docs/circuits.md).
 */
export function emitWords(w0: i64, w1: i64, w2: i64, w3: i64): void {
  const buf = memory.data(32);
  store<i64>(buf, w0);
  store<i64>(buf, w1, 8);
  store<i64>(buf, w2, 16);
  store<i64>(buf, w3, 24);
  env.emit(buf, 32);
}

/** The device earned `output` this epoch (one claim per device). */
export function claim(d: Device, output: u64): void {
  env.claim(d.idPtr, output);
}

/** 64 deterministic pseudo-random bits (seeded from the input digest). */
export function random(): u64 {
  return <u64>env.random();
}

export function abortWith(message: string): void {
  const buf = String.UTF8.encode(message);
  env.abort(changetype<usize>(buf), buf.byteLength);
  unreachable();
}

/** Per-device state: small byte values under short string keys, kept between epochs by the host. */
export namespace state {
  export function getU64(d: Device, key: string, fallback: u64): u64 {
    const k = String.UTF8.encode(key);
    const v = new ArrayBuffer(8);
    const n = env.state_get(d.idPtr, changetype<usize>(k), k.byteLength, changetype<usize>(v), 8);
    return n == 8 ? load<u64>(changetype<usize>(v)) : fallback;
  }
  export function setU64(d: Device, key: string, value: u64): void {
    const k = String.UTF8.encode(key);
    const v = new ArrayBuffer(8);
    store<u64>(changetype<usize>(v), value);
    env.state_set(d.idPtr, changetype<usize>(k), k.byteLength, changetype<usize>(v), 8);
  }
  export function remove(d: Device, key: string): void {
    const k = String.UTF8.encode(key);
    env.state_set(d.idPtr, changetype<usize>(k), k.byteLength, 0, -1);
  }
}
