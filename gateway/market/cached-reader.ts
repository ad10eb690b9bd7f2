/**
 * A MarketChainReader that remembers answers for a short time and shares reads in flight (issue 19, finding 9): ten
 * requests from an unsubscribed wallet cost ten RPC reads (their subscriptions), not thirty, and every live feed's
 * once-a-second chain check is one `chainTime` read for all of them. What is remembered, for `ttlMs` (default 2 s):
 * streams that exist and devices' owners (a transfer is seen at most that much later), and chain time (at most 1 s).
 * Never remembered: a stream that does not exist yet and subscriptions, so a buyer who has just listed or subscribed
 * is served at once, and a renewal is never hidden behind an expiry. Refused requests cost their sender's failure
 * budget besides (client-budget.ts), which bounds the reads one address can cause. Past `maxEntries` per kind the
 * oldest entries go first.
 *
 * Written by hand: the cache is a Map with expiry and a shared promise per key; a library (lru-cache and the like)
 * would not share the reads in flight, which is most of the saving under a burst.
 */
import type { MarketChainReader, MarketStream } from "./chain-reader.ts";

export interface CachedReaderOptions {
  /** How long an answer is reused (default 2000 ms; 0 reads the chain every time). */
  ttlMs?: number;
  /** Entries kept per kind (default 10,000). */
  maxEntries?: number;
  now?: () => number;
}

function memo<K, V>(
  read: (key: K) => Promise<V>,
  ttlMs: number,
  maxEntries: number,
  now: () => number,
  keep: (value: V) => boolean = () => true,
) {
  const entries = new Map<K, { at: number; value: Promise<V> }>();
  return (key: K): Promise<V> => {
    const t = now();
    const hit = entries.get(key);
    if (hit && t - hit.at < ttlMs) return hit.value;
    const value = read(key);
    // A failed read, or an answer not worth keeping, is forgotten once it arrives (callers in flight still share it).
    const forget = () => void (entries.get(key)?.value === value && entries.delete(key));
    value.then((v) => keep(v) || forget(), forget);
    entries.delete(key); // re-insert at the end: Map order is the eviction order
    entries.set(key, { at: t, value });
    if (entries.size > maxEntries) entries.delete(entries.keys().next().value as K);
    return value;
  };
}

export function cachedMarketReader(reader: MarketChainReader, o: CachedReaderOptions = {}): MarketChainReader {
  const ttl = o.ttlMs ?? 2000;
  if (ttl <= 0) return reader;
  const max = o.maxEntries ?? 10_000;
  const now = o.now ?? Date.now;
  const streamOf = memo<bigint, MarketStream | undefined>(
    (id) => reader.streamOf(id),
    ttl,
    max,
    now,
    (s) => !!s,
  );
  // Chain time changes every block: shared for at most a second, whatever ttlMs says.
  const chainTime = memo<0, bigint>(() => reader.chainTime(), Math.min(ttl, 1000), 1, now);
  const deviceOwner = memo<bigint, string>(
    (id) => reader.deviceOwner(id),
    ttl,
    max,
    now,
    (o) => !/^0x0{40}$/.test(o),
  );
  return {
    streamOf,
    expiresAt: (id, buyer) => reader.expiresAt(id, buyer),
    chainTime: () => chainTime(0),
    deviceOwner,
  };
}
