/** servedRange / signedSince on real SQLite, including a chain whose head is unsigned (ingest never stores one). */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { genesisHash, hashReading, padValues, type SignedReading } from "../../device-sdk/index.ts";
import { openStore, type StoreSet } from "../../store/index.ts";
import { servedRange, signedSince } from "./history.ts";

const DEVICE = 77n;
const SIG = { R8x: 1n, R8y: 2n, S: 3n }; // the store does not verify; only signed / unsigned matters here
let store: StoreSet;

/** seq 1..n at ts 1000·seq; `signed` lists the signed seqs. */
function chain(n: number, signed: number[]): SignedReading[] {
  let prev = genesisHash(DEVICE);
  return Array.from({ length: n }, (_, i) => {
    const r = {
      deviceId: DEVICE,
      seq: BigInt(i + 1),
      ts: BigInt((i + 1) * 1000),
      values: padValues([BigInt(i)]),
      prev,
    };
    prev = hashReading(r);
    return { ...r, hash: prev, signature: signed.includes(i + 1) ? SIG : null };
  });
}
const seqs = (rs: { seq: bigint }[]) => rs.map((r) => Number(r.seq));
const q = (o: Partial<Record<"fromSeq" | "toSeq" | "fromTs" | "toTs", bigint>> & { limit?: number }) => ({
  deviceId: DEVICE,
  fromSeq: 0n,
  toSeq: 0n,
  fromTs: 0n,
  toTs: 0n,
  limit: 100,
  ...o,
});

beforeAll(async () => {
  store = openStore(":memory:");
  // signed at 3 and 7; 8..9 unsigned (a head no ingest would leave)
  expect((await store.appendReadings(DEVICE, chain(9, [3, 7]), 0)).ok).toBe(true);
});
afterAll(() => store.close());

describe("servedRange", () => {
  it("adds no tail when the range ends signed, and a tail to the next signature otherwise", async () => {
    expect(await servedRange(store, q({ fromSeq: 1n, toSeq: 3n }))).toMatchObject({ inRange: 3, next: undefined });
    const r = await servedRange(store, q({ fromSeq: 2n, toSeq: 4n }));
    expect(seqs(r.readings)).toEqual([2, 3, 4, 5, 6, 7]);
    expect(r.inRange).toBe(3);
    const t = await servedRange(store, q({ fromTs: 4000n, toTs: 5000n }));
    expect(seqs(t.readings)).toEqual([4, 5, 6, 7]);
  });

  it("cuts back to the last signature when nothing signed follows, and says where to continue", async () => {
    const r = await servedRange(store, q({ fromSeq: 6n }));
    expect(seqs(r.readings)).toEqual([6, 7]);
    expect(r.next).toBe(8n);
    expect(await servedRange(store, q({ fromSeq: 8n }))).toMatchObject({ readings: [], inRange: 0, next: undefined });
  });

  it("pages at the limit and serves nothing for an empty range", async () => {
    const r = await servedRange(store, q({ fromSeq: 1n, limit: 2 }));
    expect(seqs(r.readings)).toEqual([1, 2, 3]);
    expect(r).toMatchObject({ inRange: 2, next: 3n });
    expect(await servedRange(store, q({ fromSeq: 50n }))).toMatchObject({ readings: [], inRange: 0, next: undefined });
  });

  it("signedSince returns only what a signature already covers", async () => {
    expect(seqs(await signedSince(store, DEVICE, 1n))).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(seqs(await signedSince(store, DEVICE, 8n))).toEqual([]);
  });
});
