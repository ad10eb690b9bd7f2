/**
 * The readings a buyer is served: a seq / time range of one device, extended past its end up to the next signed
 * reading, because only a signature vouches for the unsigned links before it (verifyReading needs a signed end).
 */
import type { ReadingStore, StoredReading } from "../../store/index.ts";

export interface ServedRange {
  /** The in-range readings first, then the tail up to the next signed reading. */
  readings: StoredReading[];
  /** How many of `readings` lie in the requested range. */
  inRange: number;
  /** Where to continue (fromSeq) when the range had more than `limit` readings; undefined when complete. */
  next?: bigint;
}

const TAIL_PAGE = 256;

export async function servedRange(
  store: ReadingStore,
  q: { deviceId: bigint; fromSeq: bigint; toSeq: bigint; fromTs: bigint; toTs: bigint; limit: number },
): Promise<ServedRange> {
  const open = (x: bigint) => (x === 0n ? undefined : x);
  const rows = await store.listReadings({
    deviceId: q.deviceId,
    fromSeq: open(q.fromSeq),
    toSeq: open(q.toSeq),
    fromTs: open(q.fromTs),
    toTs: open(q.toTs),
    limit: q.limit + 1,
  });
  const more = rows.length > q.limit;
  const inRange = rows.slice(0, q.limit);
  const next = more ? inRange[inRange.length - 1]!.seq + 1n : undefined;
  if (inRange.length === 0 || inRange[inRange.length - 1]!.signature)
    return { readings: inRange, inRange: inRange.length, next };
  const tail: StoredReading[] = [];
  for (let from = inRange[inRange.length - 1]!.seq + 1n; ;) {
    const page = await store.listReadings({ deviceId: q.deviceId, fromSeq: from, limit: TAIL_PAGE });
    const signedAt = page.findIndex((r) => r.signature !== null);
    if (signedAt >= 0) {
      tail.push(...page.slice(0, signedAt + 1));
      return { readings: [...inRange, ...tail], inRange: inRange.length, next };
    }
    tail.push(...page);
    if (page.length < TAIL_PAGE) break;
    from = page[page.length - 1]!.seq + 1n;
  }
  // The chain head is unsigned (cannot happen through ingest, which stores batches ending signed): serve only what a
  // signature covers and say where to continue.
  let end = inRange.length - 1;
  while (end >= 0 && !inRange[end]!.signature) end--;
  const covered = inRange.slice(0, end + 1);
  return {
    readings: covered,
    inRange: covered.length,
    next: covered.length ? covered[covered.length - 1]!.seq + 1n : undefined,
  };
}

/** The readings after `fromSeq - 1` that a signature already covers (for the live feed); [] when none yet. */
export async function signedSince(
  store: ReadingStore,
  deviceId: bigint,
  fromSeq: bigint,
  limit = 1000,
): Promise<StoredReading[]> {
  const rows = await store.listReadings({ deviceId, fromSeq, limit });
  let end = rows.length - 1;
  while (end >= 0 && !rows[end]!.signature) end--;
  return rows.slice(0, end + 1);
}
