/** The journal: what a run commits (layout in abi.ts JOURNAL). The writer enforces the engine's size cap. */
import { JOURNAL_ENTRY_HEADER, JOURNAL_KIND } from "./abi.ts";
import { leToU256, toHex, u64IntoLE } from "./digest.ts";
import { RuntimeInputError } from "./errors.ts";

export interface JournalClaim {
  deviceId: bigint;
  /** u64 */
  output: bigint;
}

export interface DecodedJournal {
  logs: string[];
  records: Uint8Array[];
  claims: JournalClaim[];
}

interface Entry {
  kind: number;
  payload: Uint8Array;
}

export class JournalLimitExceeded extends Error {
  override name = "JournalLimitExceeded";
}

// Entries are written straight into one growing buffer: a run's few dozen host calls then allocate nothing but the
// claim keys. (Small typed arrays live on V8's heap, and touching their .buffer, as DataView needs, costs ~2 µs each:
// more than the rest of a claim.)

export class JournalWriter {
  private buf = new Uint8Array(new ArrayBuffer(512));
  private size = 0;
  /** Whether anything but logs was written (a trapped run keeps only the logs). */
  private onlyLogs = true;
  private claimed = new Set<string>();
  constructor(readonly capBytes: number) {}

  get bytes(): number {
    return this.size;
  }

  append(kind: number, payload: Uint8Array): void {
    const at = this.entry(kind, payload.length);
    this.buf.set(payload, at);
  }

  /** `deviceIdLE` is the 32-byte id (a view is fine: it is copied). False when the device already has a claim in this run. */
  claim(deviceIdLE: Uint8Array, output: bigint): boolean {
    const key = toHex(deviceIdLE);
    if (this.claimed.has(key)) return false;
    const at = this.entry(JOURNAL_KIND.claim, 40);
    this.buf.set(deviceIdLE, at);
    u64IntoLE(output, this.buf, at + 32);
    this.claimed.add(key);
    return true;
  }

  /** The journal bytes; `logsOnly` for a trapped run, which commits no records and no claims. */
  finish(logsOnly: boolean): Uint8Array {
    if (!logsOnly || this.onlyLogs) return this.buf.slice(0, this.size);
    const parts: Uint8Array[] = [];
    for (let o = 0; o < this.size;) {
      const end = o + JOURNAL_ENTRY_HEADER + readU32(this.buf, o + 1);
      if (this.buf[o] === JOURNAL_KIND.log) parts.push(this.buf.subarray(o, end));
      o = end;
    }
    const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
    parts.reduce((o, p) => (out.set(p, o), o + p.length), 0);
    return out;
  }

  /** Writes an entry header for `len` payload bytes (after the cap check) and returns where the payload goes. */
  private entry(kind: number, len: number): number {
    const next = this.size + JOURNAL_ENTRY_HEADER + len;
    if (next > this.capBytes)
      throw new JournalLimitExceeded(`the journal would grow to ${next} bytes, above the cap of ${this.capBytes}`);
    if (next > this.buf.length) {
      const grown = new Uint8Array(new ArrayBuffer(Math.max(next, this.buf.length * 2)));
      grown.set(this.buf.subarray(0, this.size));
      this.buf = grown;
    }
    const o = this.size;
    this.buf[o] = kind;
    writeU32(this.buf, o + 1, len);
    if (kind !== JOURNAL_KIND.log) this.onlyLogs = false;
    this.size = next;
    return o + JOURNAL_ENTRY_HEADER;
  }
}

function writeU32(b: Uint8Array, o: number, v: number): void {
  b[o] = v & 0xff;
  b[o + 1] = (v >>> 8) & 0xff;
  b[o + 2] = (v >>> 16) & 0xff;
  b[o + 3] = v >>> 24;
}

function readU32(b: Uint8Array, o: number): number {
  return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
}

/** Decode journal bytes into logs, records and claims (the worker reads claims from here). */
export function decodeJournal(bytes: Uint8Array): DecodedJournal {
  const out: DecodedJournal = { logs: [], records: [], claims: [] };
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const text = new TextDecoder();
  let o = 0;
  while (o < bytes.length) {
    if (o + JOURNAL_ENTRY_HEADER > bytes.length) throw new RuntimeInputError(`journal truncated at byte ${o}`);
    const kind = bytes[o]!;
    const len = dv.getUint32(o + 1, true);
    const start = o + JOURNAL_ENTRY_HEADER;
    if (start + len > bytes.length) throw new RuntimeInputError(`journal entry at byte ${o} runs past the end`);
    const payload = bytes.slice(start, start + len);
    if (kind === JOURNAL_KIND.log) out.logs.push(text.decode(payload));
    else if (kind === JOURNAL_KIND.record) out.records.push(payload);
    else if (kind === JOURNAL_KIND.claim) {
      if (len !== 40) throw new RuntimeInputError(`claim entry at byte ${o} has ${len} bytes, expected 40`);
      out.claims.push({ deviceId: leToU256(payload.subarray(0, 32)), output: dv.getBigUint64(start + 32, true) });
    } else throw new RuntimeInputError(`unknown journal entry kind ${kind} at byte ${o}`);
    o = start + len;
  }
  return out;
}
