/**
 * Token buckets: a key (a device, a client address) may make `perSecond` requests on average with bursts up to `burst`.
 * Buckets are refilled from the elapsed time before every comparison, and the map is kept in least-recently-touched
 * order so eviction looks only at its front: a bucket refilled to its burst carries no information, and beyond `maxKeys` the stalest bucket goes even if not full (memory stays bounded whatever the
 * number of keys; a key evicted that way starts again with a full burst).
 */
import { GatewayError } from "./errors.ts";

export interface RateLimitOptions {
  perSecond: number;
  burst: number;
  /** Most buckets kept (default 100,000). */
  maxKeys?: number;
}

export type RateDecision = { ok: true } | { ok: false; retryAfterMs: number };

export interface RateLimiter<K = bigint> {
  /** Take a token if one is there; else how long to wait, in ms. */
  take(key: K): RateDecision;
  /** Whether a token is there now, without taking it (refuse before doing work that is charged only if it succeeds). */
  check(key: K): RateDecision;
  /** Take a token for work already done; the bucket may go into debt (down to -burst), which delays the next request. */
  charge(key: K): void;
  /** Buckets held (for tests and metrics). */
  size(): number;
}

/** A 429 with Retry-After in whole seconds (at least 1). */
export function rateLimited(type: string, msg: string, retryAfterMs: number, details: string): GatewayError {
  return new GatewayError(429, type, msg, {
    details: `retry after ${retryAfterMs} ms; ${details}`,
    headers: { "retry-after": String(Math.max(1, Math.ceil(retryAfterMs / 1000))) },
  });
}

export function createRateLimiter<K = bigint>(opts: RateLimitOptions, now: () => number): RateLimiter<K> {
  const { perSecond, burst } = opts;
  const maxKeys = opts.maxKeys ?? 100_000;
  // A zero or NaN rate made every post 429 with Retry-After: Infinity/NaN; refuse the configuration instead.
  if (!(Number.isFinite(perSecond) && perSecond > 0) || !(Number.isFinite(burst) && burst >= 1) || !(maxKeys >= 1))
    throw new GatewayError(500, "config", `invalid rate limit: ${perSecond}/s, burst ${burst}, maxKeys ${maxKeys}`, {
      details: "perSecond > 0, burst ≥ 1, maxKeys ≥ 1",
    });
  const buckets = new Map<K, { tokens: number; at: number }>();

  function touch(key: K, t: number) {
    const b = buckets.get(key);
    const bucket = b
      ? { tokens: Math.min(burst, b.tokens + ((t - b.at) / 1000) * perSecond), at: t }
      : { tokens: burst, at: t };
    // Delete and re-insert: the map's order is the order of last touch, stalest first.
    buckets.delete(key);
    buckets.set(key, bucket);
    for (const [k, v] of buckets) {
      if (buckets.size <= maxKeys && v.tokens + ((t - v.at) / 1000) * perSecond < burst) break;
      if (k === key) break;
      buckets.delete(k);
    }
    return bucket;
  }
  const decide = (tokens: number): RateDecision =>
    tokens >= 1 ? { ok: true } : { ok: false, retryAfterMs: Math.ceil(((1 - tokens) / perSecond) * 1000) };

  return {
    take(key) {
      const b = touch(key, now());
      const d = decide(b.tokens);
      if (d.ok) b.tokens -= 1;
      return d;
    },
    check(key) {
      const b = buckets.get(key);
      if (!b) return { ok: true };
      return decide(Math.min(burst, b.tokens + ((now() - b.at) / 1000) * perSecond));
    },
    charge(key) {
      const b = touch(key, now());
      b.tokens = Math.max(-burst, b.tokens - 1);
    },
    size: () => buckets.size,
  };
}
