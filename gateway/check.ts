/**
 * The CPU-heavy part of ingest, in one function that runs inline or on a pool worker: hash each reading (its h_seq)
 * and verify every signature present, all signatures of a message in one verifyBatch call.
 */
import {
  hashReading,
  type EddsaBackend,
  type PublicKey,
  type Reading,
  type Signature,
  type VerifyItem,
} from "../device-sdk/index.ts";

/** A reading to hash, and to verify against publicKey when it carries a signature. */
export interface ReadingCheck {
  reading: Reading;
  signature: Signature | null;
  publicKey: PublicKey;
}

export type CheckItem = VerifyItem | ReadingCheck;
/** For a VerifyItem: whether it verified. For a ReadingCheck: its hash, and whether its signature verified (null: unsigned). */
export type CheckResult = boolean | { hash: bigint; valid: boolean | null };

export function checkItems(backend: EddsaBackend, items: readonly CheckItem[]): CheckResult[] {
  const toVerify: VerifyItem[] = [];
  const at: number[] = [];
  const out: CheckResult[] = items.map((item, i) => {
    if ("reading" in item) {
      const hash = hashReading(item.reading);
      if (item.signature) {
        toVerify.push({ msg: hash, sig: item.signature, publicKey: item.publicKey });
        at.push(i);
      }
      return { hash, valid: null };
    }
    toVerify.push(item);
    at.push(i);
    return false;
  });
  let ok: boolean[];
  try {
    ok = backend.verifyBatch(toVerify);
  } catch {
    // A backend must not throw, but if one does, nothing it was given counts as verified.
    ok = toVerify.map(() => false);
  }
  ok.forEach((v, k) => {
    const i = at[k]!;
    const r = out[i]!;
    out[i] = typeof r === "boolean" ? v : { hash: r.hash, valid: v };
  });
  return out;
}

/*
 * Packed form of a message of ReadingChecks for the trip to a pool worker: structured-cloning nested objects of
 * bigints was the largest single cost of a single-reading post on the event loop (~7%); a BigUint64Array is
 * transferred without copying. Each number takes 4 limbs (little-endian); negative values (readings' i64 values)
 * are stored as 256-bit two's complement — field elements are < 2^254, so the top bit tells them apart.
 */
const WORDS = 14 * 4 + 1;
const M64 = (1n << 64n) - 1n;

function put(u: BigUint64Array, at: number, x: bigint): void {
  const v = x < 0n ? BigInt.asUintN(256, x) : x;
  u[at] = v & M64;
  u[at + 1] = (v >> 64n) & M64;
  u[at + 2] = (v >> 128n) & M64;
  u[at + 3] = v >> 192n;
}

function get(u: BigUint64Array, at: number): bigint {
  const v = u[at]! | (u[at + 1]! << 64n) | (u[at + 2]! << 128n) | (u[at + 3]! << 192n);
  return u[at + 3]! >> 63n ? v - (1n << 256n) : v;
}

/** Packs a message made only of readings with 4 values (as ingest decodes them); undefined for anything else. */
export function packChecks(items: readonly CheckItem[]): BigUint64Array | undefined {
  const u = new BigUint64Array(items.length * WORDS);
  for (let i = 0; i < items.length; i++) {
    const it = items[i]!;
    if (!("reading" in it) || it.reading.values.length !== 4) return undefined;
    const r = it.reading;
    const s = it.signature;
    const at = i * WORDS;
    const nums = [
      r.deviceId,
      r.seq,
      r.ts,
      r.values[0]!,
      r.values[1]!,
      r.values[2]!,
      r.values[3]!,
      r.prev,
      s?.R8x ?? 0n,
      s?.R8y ?? 0n,
      s?.S ?? 0n,
      it.publicKey.x,
      it.publicKey.y,
    ];
    for (let k = 0; k < nums.length; k++) put(u, at + 4 * k, nums[k]!);
    u[at + 56] = s ? 1n : 0n;
  }
  return u;
}

export function unpackChecks(u: BigUint64Array): ReadingCheck[] {
  const out: ReadingCheck[] = [];
  for (let at = 0; at < u.length; at += WORDS) {
    const n = (k: number) => get(u, at + 4 * k);
    out.push({
      reading: { deviceId: n(0), seq: n(1), ts: n(2), values: [n(3), n(4), n(5), n(6)], prev: n(7) },
      signature: u[at + 56] ? { R8x: n(8), R8y: n(9), S: n(10) } : null,
      publicKey: { x: n(11), y: n(12) },
    });
  }
  return out;
}

/** Results of a packed message: per reading its hash (4 limbs) and 0 = bad, 1 = valid, 2 = unsigned. */
export function packResults(results: readonly CheckResult[]): BigUint64Array {
  const u = new BigUint64Array(results.length * 5);
  results.forEach((r, i) => {
    const { hash, valid } = r as { hash: bigint; valid: boolean | null };
    put(u, i * 5, hash);
    u[i * 5 + 4] = valid === null ? 2n : valid ? 1n : 0n;
  });
  return u;
}

export function unpackResults(u: BigUint64Array): CheckResult[] {
  const out: CheckResult[] = [];
  for (let at = 0; at < u.length; at += 5)
    out.push({ hash: get(u, at), valid: u[at + 4] === 2n ? null : u[at + 4] === 1n });
  return out;
}
