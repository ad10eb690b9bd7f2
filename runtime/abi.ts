/**
 * ABI v1: the one definition of the contract between an applet and the host. The Linker (runtime/linker.ts)
 * implements exactly these imports and the validator checks applets against them; the AssemblyScript SDK
 * (applets/sdk/assembly/env.ts) declares the same names and signatures, checked by runtime/abi.test.ts.
 * The byte layouts below are documented once more, in prose, in docs/abi.md.
 */

export const ABI_VERSION = 1;
/** The only module an applet may import from. */
export const IMPORT_MODULE = "mfi";
/** The entry point: `mfi_main(): void`. */
export const ENTRY_EXPORT = "mfi_main";
/** Optional initializer run before the entry (asc's `--exportStart`; a Wasm start section is refused). */
export const INIT_EXPORT = "_initialize";
export const MEMORY_EXPORT = "memory";

export type ValType = "i32" | "i64";
export interface ImportSpec {
  params: readonly ValType[];
  results: readonly ValType[];
  doc: string;
}

/**
 * Every host function. Pointers and lengths are i32 into the applet's memory; the host bounds-checks each one
 * (an out-of-bounds range is Trap.HostError). A deviceId argument is a pointer to 32 bytes (little-endian).
 */
export const IMPORTS = {
  log: { params: ["i32", "i32"], results: [], doc: "log(ptr, len): append UTF-8 text to the journal as a log entry" },
  input_len: { params: [], results: ["i32"], doc: "input_len(): byte length of the run's input (layout: INPUT below)" },
  input_read: {
    params: ["i32", "i32", "i32"],
    results: ["i32"],
    doc: "input_read(dst, offset, len): copy input[offset, offset+len) to dst; returns bytes copied (short at the end)",
  },
  state_get: {
    params: ["i32", "i32", "i32", "i32", "i32"],
    results: ["i32"],
    doc: "state_get(device, keyPtr, keyLen, dst, cap): value length, or -1 if absent; copies min(len, cap) bytes",
  },
  state_set: {
    params: ["i32", "i32", "i32", "i32", "i32"],
    results: [],
    doc: "state_set(device, keyPtr, keyLen, valPtr, valLen): store a value; valLen = -1 deletes the key",
  },
  emit: { params: ["i32", "i32"], results: [], doc: "emit(ptr, len): append an opaque record to the journal" },
  claim: {
    params: ["i32", "i64"],
    results: [],
    doc: "claim(device, output): the device earned `output` (u64) this epoch; at most one claim per device",
  },
  random: {
    params: [],
    results: ["i64"],
    doc: "random(): next 64 bits of a PRNG seeded from the input digest (deterministic)",
  },
  abort: {
    params: ["i32", "i32"],
    results: [],
    doc: "abort(ptr, len): stop the run with Trap.AppletAbort and this UTF-8 message",
  },
} as const satisfies Record<string, ImportSpec>;
export type ImportName = keyof typeof IMPORTS;

/** Limits the host enforces on arguments (beyond the memory bounds). */
export const MAX_STATE_KEY_BYTES = 64;
export const MAX_STATE_VALUE_BYTES = 1024;
export const DEVICE_ID_BYTES = 32;

/**
 * INPUT layout (all integers little-endian; offsets in bytes):
 *
 *   header (32 bytes)
 *     0  u32 abiVersion        = 1
 *     4  u32 readingCount
 *     8  u32 deviceCount
 *    12  u32 configLen
 *    16  u64 epochStartMs
 *    24  u64 epochLengthMs     readings with epochStartMs <= ts < epochStartMs + epochLengthMs are "in the epoch"
 *   device table (deviceCount × 40 bytes), sorted by deviceId ascending
 *     0  32 bytes deviceId     (field element, little-endian)
 *    32  u32 firstReading      index of the device's first reading
 *    36  u32 readingCount      number of consecutive readings of this device
 *   config blob (configLen bytes, then zero padding to a multiple of 8)
 *                              manifests with a `param` encode it as one i64 (e.g. the threshold)
 *   readings (readingCount × 56 bytes), sorted by (device, seq)
 *     0  u32 deviceIndex       index into the device table
 *     4  u32 reserved          = 0
 *     8  u64 seq
 *    16  u64 ts                Unix milliseconds
 *    24  i64 values[4]
 */
export const INPUT = {
  headerBytes: 32,
  deviceEntryBytes: 40,
  readingBytes: 56,
  valueSlots: 4,
} as const;

/**
 * JOURNAL layout: a sequence of entries `u8 kind | u32 payloadLen | payload`.
 *   kind 1 log     payload = UTF-8 text
 *   kind 2 record  payload = opaque bytes from emit()
 *   kind 3 claim   payload = 32 bytes deviceId (LE) | u64 output (LE)
 * A trapped run keeps only its logs: no records, no claims, no state change.
 */
export const JOURNAL_KIND = { log: 1, record: 2, claim: 3 } as const;
export const JOURNAL_ENTRY_HEADER = 5;

/** Domain tags of every digest (sha256(tag ‖ bytes)), so a digest of one kind can never pass for another. */
export const DOMAIN = {
  input: "mfi.input.v1",
  journal: "mfi.journal.v1",
  state: "mfi.state.v1",
  random: "mfi.random.v1",
} as const;
