/**
 * Accepting readings: range checks, the chain rule, idempotent resends, signature checks, one durable append.
 * Order of checks is the order of the problem codes a device can act on: 422/404/429 before 409 before 401, except
 * that a batch whose first reading cannot extend the chain is a 409 before its other readings are even decoded.
 * Nothing here writes unless every check passed; the append re-checks the chain head inside its transaction.
 */
import {
  genesisHash,
  MAX_TS,
  MAX_VALUE,
  MIN_VALUE,
  SNARK_FIELD,
  VALUE_SLOTS,
  type Reading,
  type Signature,
  type SignedReading,
  type IngestAck,
} from "../device-sdk/index.ts";
import type { DeviceDirectory } from "./directory.ts";
import { chainConflict, GatewayError, notFound, tooLarge, unauthorized, unprocessable } from "./errors.ts";
import { rateLimited, type RateLimiter } from "./rate-limit.ts";
import type { WireReadingIn } from "./schemas.ts";
import type { DeviceRecord, ReadingStore, StoredReading } from "../store/index.ts";
import type { Verifier } from "./verify-pool.ts";

export interface IngestDeps {
  store: ReadingStore;
  directory: DeviceDirectory;
  verifier: Verifier;
  now: () => number;
  /** Largest |ts - now| accepted, in ms; null accepts any ts (historical imports, simulations). */
  maxClockSkewMs: number | null;
  maxBatch: number;
  rateLimiter?: RateLimiter;
}

export const ingestAckOf = (r: StoredReading): IngestAck => ({
  deviceId: r.deviceId.toString(),
  seq: r.seq.toString(),
  hash: r.hash.toString(),
  receivedAt: r.receivedAt,
});

type DecodedReading = Reading & { signature: Signature | null };

/** Wire reading → reading (not yet hashed), or a 422 naming the bad field. `at` is the index in the batch. */
function decode(deviceId: bigint, w: WireReadingIn, at: number, deps: IngestDeps): DecodedReading {
  const bad = (what: string) => unprocessable(`reading ${at}: ${what}`, undefined, { index: at });
  if (w.deviceId !== undefined && BigInt(w.deviceId) !== deviceId)
    throw bad("deviceId differs from the device in the path");
  const seq = BigInt(w.seq);
  const ts = BigInt(w.ts);
  if (seq < 1n || seq > MAX_TS) throw bad(`seq ${seq} is outside [1, 2^48)`);
  if (ts > MAX_TS) throw bad(`ts ${ts} is outside [0, 2^48) Unix milliseconds`);
  if (deps.maxClockSkewMs !== null && Math.abs(Number(ts) - deps.now()) > deps.maxClockSkewMs)
    throw bad(
      `ts ${ts} is more than ${deps.maxClockSkewMs} ms from the gateway clock (${deps.now()}); fix the device clock`,
    );
  if (w.values.length > VALUE_SLOTS) throw bad(`at most ${VALUE_SLOTS} values, got ${w.values.length}`);
  const values = w.values.map((v) => BigInt(v));
  for (const v of values) if (v < MIN_VALUE || v > MAX_VALUE) throw bad(`value ${v} is outside the i64 range`);
  while (values.length < VALUE_SLOTS) values.push(0n);
  const prev = BigInt(w.prev);
  if (prev >= SNARK_FIELD) throw bad("prev is not a field element");
  let signature: Signature | null = null;
  if (w.signature) {
    signature = { R8x: BigInt(w.signature.R8x), R8y: BigInt(w.signature.R8y), S: BigInt(w.signature.S) };
    if (signature.R8x >= SNARK_FIELD || signature.R8y >= SNARK_FIELD || signature.S >= SNARK_FIELD)
      throw bad("a signature component is not a field element");
  }
  return { deviceId, seq, ts, values, prev, signature };
}

/** Same seq, ts, values and prev (the hashed fields besides deviceId), so the same hash. */
function sameFields(s: StoredReading, r: Reading): boolean {
  return (
    s.seq === r.seq &&
    s.ts === r.ts &&
    s.prev === r.prev &&
    s.values.length === r.values.length &&
    s.values.every((v, i) => v === r.values[i])
  );
}

function tsOrder(msg: string, index: number): GatewayError {
  return unprocessable(
    msg,
    "timestamps must never decrease along a device's chain: fix the device clock and re-sign from the last accepted reading",
    { index },
  );
}

/**
 * The checks that need only a batch's first reading, in the order ingest runs them: the device exists (404), is within
 * its rate (429), and the first reading can extend its chain (409: past the head + 1, or a stored seq resent with
 * other fields). Returns the decoded first reading and the stored head. The batch route runs it on the first reading
 * of a large body before parsing the rest (routes/readings.ts), so a forged 1,000-reading batch costs one lookup.
 */
export async function checkFirstReading(
  deps: IngestDeps,
  deviceId: bigint,
  firstWire: WireReadingIn,
): Promise<{ device: DeviceRecord; first: DecodedReading; top: StoredReading | undefined }> {
  if (deviceId >= SNARK_FIELD) throw unprocessable("deviceId is not a field element");
  const device = await deps.directory.get(deviceId);
  if (!device) throw notFound(`device ${deviceId} is not registered`, "register it with POST /v1/devices first");
  // The device's budget is charged only below, once signatures verified: a stranger's junk for this device must not
  // use it up (failures count against the sender's address, routes/readings.ts). Here it is only read.
  if (deps.rateLimiter) {
    const r = deps.rateLimiter.check(deviceId);
    if (!r.ok)
      throw rateLimited(
        "rate-limited",
        `device ${deviceId} is over its rate limit`,
        r.retryAfterMs,
        "or send readings in batches",
      );
  }
  // A batch that cannot extend the chain is refused on its first reading alone, before the rest is decoded (a forged
  // 1,000-reading batch costs one lookup, not 1,000 decodes): its first seq is past the head + 1, or it resends a
  // stored seq with other fields.
  const first = decode(deviceId, firstWire, 0, deps);
  const top = await deps.store.lastReading(deviceId);
  const topSeq = top?.seq ?? 0n;
  if (first.seq > topSeq + 1n)
    throw chainConflict(
      `seq ${first.seq} is not the next seq`,
      { seq: topSeq + 1n, hash: top?.hash ?? genesisHash(deviceId) },
      0,
    );
  if (first.seq <= topSeq) {
    const s = first.seq === topSeq ? top! : await deps.store.getReading(deviceId, first.seq);
    if (!s || !sameFields(s, first))
      throw chainConflict(
        `seq ${first.seq} is already taken by a different reading (a fork)`,
        { seq: topSeq + 1n, hash: top!.hash },
        0,
      );
  }
  return { device, first, top };
}

/** Accept one reading or a batch. status 201 if anything new was stored, 200 for a pure resend. */
export async function ingest(
  deps: IngestDeps,
  deviceId: bigint,
  wire: readonly WireReadingIn[],
): Promise<{ status: 200 | 201; acks: IngestAck[] }> {
  if (wire.length > deps.maxBatch)
    throw tooLarge(
      `a batch holds at most ${deps.maxBatch} readings, got ${wire.length}`,
      "split it into smaller batches",
    );
  const { device, first, top } = await checkFirstReading(deps, deviceId, wire[0]!);
  const decoded = [first, ...wire.slice(1).map((w, i) => decode(deviceId, w, i + 1, deps))];
  if (!decoded[decoded.length - 1]!.signature)
    throw unprocessable(
      "the last reading of a batch must be signed",
      "sign at least the last reading; its signature vouches for the chain behind it",
      { index: decoded.length - 1 },
    );
  // The circuits assume ts never decreases along a chain (docs/security.md); checked before any hashing.
  for (let i = 1; i < decoded.length; i++) {
    if (decoded[i]!.ts < decoded[i - 1]!.ts)
      throw tsOrder(`reading ${i} has ts ${decoded[i]!.ts}, below reading ${i - 1}'s ${decoded[i - 1]!.ts}`, i);
  }

  // Cheap checks before any hashing or signature work (a wrong-prev batch must cost a lookup, not a thousand
  // Poseidon hashes and signature checks): seq links inside the batch, then the stored head. A resent prefix is
  // compared field by field with what is stored (equal fields give an equal hash); only then does the verifier run.
  const headRow = top;
  const head = headRow ? { seq: headRow.seq, hash: headRow.hash } : { seq: 0n, hash: genesisHash(deviceId) };
  for (let i = 1; i < decoded.length; i++) {
    if (decoded[i]!.seq !== decoded[i - 1]!.seq + 1n)
      throw chainConflict(
        `reading ${i} does not follow reading ${i - 1} of the batch`,
        { seq: head.seq + 1n, hash: head.hash },
        i,
      );
  }
  const stored: StoredReading[] = [];
  let fresh = 0;
  for (; fresh < decoded.length && decoded[fresh]!.seq <= head.seq; fresh++) {
    const r = decoded[fresh]!;
    const s = r.seq === head.seq ? headRow! : await deps.store.getReading(deviceId, r.seq);
    if (!s || !sameFields(s, r))
      throw chainConflict(
        `seq ${r.seq} is already taken by a different reading (a fork)`,
        { seq: head.seq + 1n, hash: head.hash },
        fresh,
      );
    stored.push(s);
  }
  if (fresh < decoded.length) {
    const first = decoded[fresh]!;
    if (first.seq !== head.seq + 1n || first.prev !== head.hash)
      throw chainConflict(
        first.seq !== head.seq + 1n
          ? `seq ${first.seq} is not the next seq`
          : `prev of seq ${first.seq} is not the hash of the last accepted reading`,
        { seq: head.seq + 1n, hash: head.hash },
        fresh,
      );
    // prev = the head's hash, so the head is this reading's predecessor (the append re-checks it atomically).
    if (headRow && first.ts < headRow.ts)
      throw tsOrder(
        `seq ${first.seq} has ts ${first.ts}, below the ts ${headRow.ts} of seq ${headRow.seq} before it`,
        fresh,
      );
  }

  // Hashes and signature checks in one trip to the verifier pool (the CPU-heavy part, off the event loop).
  const checked = await deps.verifier.checkReadings(
    decoded.map((r) => ({ reading: r, signature: r.signature, publicKey: device.publicKey })),
  );
  const readings: SignedReading[] = decoded.map((r, i) => ({ ...r, hash: checked[i]!.hash }));
  for (let i = Math.max(1, fresh); i < readings.length; i++) {
    const [a, b] = [readings[i - 1]!, readings[i]!];
    if (b.prev !== a.hash)
      throw chainConflict(
        `reading ${i} does not follow reading ${i - 1} of the batch`,
        { seq: a.seq + 1n, hash: a.hash },
        i,
      );
  }
  if (stored.some((s, i) => s.hash !== readings[i]!.hash))
    throw new Error("a stored reading's hash does not match its fields");
  const acks: IngestAck[] = stored.map(ingestAckOf);
  const news = readings.slice(fresh);
  // Every signature present must be the device's, on resends too (a resend may drop a signature, not forge one).
  const badAt = checked.findIndex((c) => c.valid === false);
  if (badAt >= 0)
    throw unauthorized(
      `the signature on seq ${readings[badAt]!.seq} is not by device ${deviceId}`,
      "sign hashReading(reading) with the device's registered key",
      { index: badAt },
    );
  deps.rateLimiter?.charge(deviceId);
  if (news.length === 0) return { status: 200, acks };

  const res = await deps.store.appendReadings(deviceId, news, deps.now());
  if (!res.ok) {
    // A concurrent identical request (a client retry) may have stored exactly these readings: that is a resend.
    const now = await Promise.all(news.map((r) => deps.store.getReading(deviceId, r.seq)));
    if (now.every((s, i) => s && s.hash === news[i]!.hash))
      return { status: 200, acks: [...acks, ...now.map((s) => ingestAckOf(s!))] };
    const h = res.head ?? { seq: 0n, hash: genesisHash(deviceId) };
    throw chainConflict(
      "the chain moved while this request was checked (a concurrent post)",
      { seq: h.seq + 1n, hash: h.hash },
      fresh,
    );
  }
  acks.push(...res.readings.map(ingestAckOf));
  return { status: 201, acks };
}
