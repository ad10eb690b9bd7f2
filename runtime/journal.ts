/** The journal: what a run commits (layout in abi.ts JOURNAL). The writer enforces the engine's size cap. */
import { JOURNAL_ENTRY_HEADER, JOURNAL_KIND } from "./abi.ts";
import { leToU256, toHex } from "./digest.ts";
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

export class JournalWriter {
  private entries: Entry[] = [];
  private size = 0;
  private claimed = new Set<string>();
  constructor(readonly capBytes: number) {}

  get bytes(): number {
    return this.size;
  }

  append(kind: number, payload: Uint8Array): void {
    const next = this.size + JOURNAL_ENTRY_HEADER + payload.length;
    if (next > this.capBytes) throw new JournalLimitExceeded(`the journal would grow to ${next} bytes, above the cap of ${this.capBytes}`);
    this.entries.push({ kind, payload });
    this.size = next;
  }

  /** Returns false when the device already has a claim in this run (one claim per device per epoch). */
  claim(deviceIdLE: Uint8Array, output: bigint): boolean {
    const key = toHex(deviceIdLE);
    if (this.claimed.has(key)) return false;
    const payload = new Uint8Array(40);
    payload.set(deviceIdLE, 0);
    new DataView(payload.buffer).setBigUint64(32, BigInt.asUintN(64, output), true);
    this.append(JOURNAL_KIND.claim, payload);
    this.claimed.add(key);
    return true;
  }

  /** The journal bytes; `logsOnly` for a trapped run, which commits no records and no claims. */
  finish(logsOnly: boolean): Uint8Array {
    const kept = logsOnly ? this.entries.filter((e) => e.kind === JOURNAL_KIND.log) : this.entries;
    const out = new Uint8Array(kept.reduce((a, e) => a + JOURNAL_ENTRY_HEADER + e.payload.length, 0));
    const dv = new DataView(out.buffer);
    let o = 0;
    for (const e of kept) {
      out[o] = e.kind;
      dv.setUint32(o + 1, e.payload.length, true);
      out.set(e.payload, o + JOURNAL_ENTRY_HEADER);
      o += JOURNAL_ENTRY_HEADER + e.payload.length;
    }
    return out;
  }
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
      out.claims.push({ deviceId: leToU256(payload.subarray(0, 32)), output: new DataView(payload.buffer).getBigUint64(32, true) });
    } else throw new RuntimeInputError(`unknown journal entry kind ${kind} at byte ${o}`);
    o = start + len;
  }
  return out;
}
