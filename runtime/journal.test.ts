import { describe, expect, it } from "vitest";
import { JOURNAL_ENTRY_HEADER, JOURNAL_KIND } from "./abi.ts";
import { u256ToLE } from "./digest.ts";
import { JournalLimitExceeded, JournalWriter, decodeJournal } from "./journal.ts";

const text = new TextEncoder();

describe("JournalWriter", () => {
  it("keeps every entry in order across buffer growth; a trapped run keeps only the logs", () => {
    const j = new JournalWriter(1 << 20);
    const want = {
      logs: [] as string[],
      records: [] as string[],
      claims: [] as { deviceId: bigint; output: bigint }[],
    };
    for (let i = 0; i < 200; i++) {
      const log = `log ${i} ${"x".repeat(i % 17)}`;
      j.append(JOURNAL_KIND.log, text.encode(log));
      want.logs.push(log);
      const rec = Uint8Array.from({ length: (i * 7) % 90 }, (_, k) => (k * i) & 0xff);
      j.append(JOURNAL_KIND.record, rec);
      want.records.push(Buffer.from(rec).toString("hex"));
      const id = (1n << 250n) + BigInt(i);
      // The output is a u64: a negative or wider bigint is kept mod 2^64, as the applet's i64 bits.
      const output = i % 3 === 0 ? -BigInt(i) : BigInt(i) << 40n;
      expect(j.claim(u256ToLE(id), output)).toBe(true);
      want.claims.push({ deviceId: id, output: BigInt.asUintN(64, output) });
    }
    const all = decodeJournal(j.finish(false));
    expect({ ...all, records: all.records.map((r) => Buffer.from(r).toString("hex")) }).toEqual(want);
    expect(decodeJournal(j.finish(true))).toEqual({ logs: want.logs, records: [], claims: [] });
    expect(j.bytes).toBe(j.finish(false).length);
  });

  it("copies what it is given, refuses a second claim for a device, and enforces the cap to the byte", () => {
    const mem = new Uint8Array(new ArrayBuffer(4096));
    mem.set(u256ToLE(42n), 64);
    const j = new JournalWriter(2 * (JOURNAL_ENTRY_HEADER + 40) + JOURNAL_ENTRY_HEADER + 3);
    expect(j.claim(mem.subarray(64, 96), 7n)).toBe(true);
    expect(j.claim(mem.subarray(64, 96), 8n)).toBe(false);
    mem.fill(0xee, 64, 96);
    expect(j.claim(mem.subarray(64, 96), 9n)).toBe(true);
    j.append(JOURNAL_KIND.log, text.encode("abc")); // exactly at the cap
    const before = j.finish(false);
    expect(() => j.append(JOURNAL_KIND.log, new Uint8Array(0))).toThrow(JournalLimitExceeded);
    expect(j.finish(false)).toEqual(before);
    const d = decodeJournal(before);
    expect(d.claims.map((c) => c.output)).toEqual([7n, 9n]);
    expect(d.claims[0]!.deviceId).toBe(42n);
    expect(d.logs).toEqual(["abc"]);
  });
});
