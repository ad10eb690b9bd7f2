/**
 * Appending readings in groups: many devices' appends in one IMMEDIATE transaction (one fsync), each append in its
 * own savepoint and each checked against the head left by the appends before it. Used on the store's own
 * connection (inline) or on the writer thread's (./writer-thread.ts), so the two can never disagree.
 */
import type Database from "better-sqlite3";
import type { SignedReading } from "../../device-sdk/index.ts";

export interface AppendJob {
  deviceId: bigint;
  readings: readonly SignedReading[];
  receivedAt: number;
}

export type AppendOutcome =
  { ok: true } | { ok: false; head: { seq: bigint; hash: bigint } | undefined } | { error: string };

export function groupAppender(db: Database.Database): (jobs: readonly AppendJob[]) => AppendOutcome[] {
  const last = db.prepare("SELECT seq, hash FROM readings WHERE device_id = ? ORDER BY seq DESC LIMIT 1");
  const insert = db.prepare(
    `INSERT INTO readings (device_id, seq, ts, vals, prev, hash, sig_r8x, sig_r8y, sig_s, received_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const appendOne = db.transaction((j: AppendJob): AppendOutcome => {
    const d = j.deviceId.toString();
    const row = last.get(d) as { seq: number; hash: string } | undefined;
    const first = j.readings[0]!;
    // Stored hashes are canonical decimal (bigint toString), so comparing text is comparing values, without parsing
    // a 77-digit hash on every append.
    const extendsHead = row
      ? first.seq === BigInt(row.seq) + 1n && first.prev.toString() === row.hash
      : first.seq === 1n;
    if (!extendsHead) return { ok: false, head: row && { seq: BigInt(row.seq), hash: BigInt(row.hash) } };
    for (const r of j.readings) {
      const s = r.signature;
      insert.run(
        d,
        Number(r.seq),
        Number(r.ts),
        JSON.stringify(r.values.map(String)),
        r.prev.toString(),
        r.hash.toString(),
        s ? s.R8x.toString() : null,
        s ? s.R8y.toString() : null,
        s ? s.S.toString() : null,
        j.receivedAt,
      );
    }
    return { ok: true };
  });
  const group = db.transaction((jobs: readonly AppendJob[]) =>
    jobs.map((j): AppendOutcome => {
      try {
        return appendOne(j);
      } catch (e) {
        return { error: (e as Error).message };
      }
    }),
  );
  return (jobs) => group.immediate(jobs);
}
