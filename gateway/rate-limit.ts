/** Per-device token buckets: a device may post `perSecond` requests on average with bursts up to `burst`. */
export interface RateLimitOptions {
  perSecond: number;
  burst: number;
}

export interface RateLimiter {
  /** true if the device may make a request now (and takes a token); else how long to wait, in ms. */
  take(key: bigint): { ok: true } | { ok: false; retryAfterMs: number };
}

export function createRateLimiter(opts: RateLimitOptions, now: () => number): RateLimiter {
  const buckets = new Map<bigint, { tokens: number; at: number }>();
  return {
    take(key) {
      const t = now();
      const b = buckets.get(key) ?? { tokens: opts.burst, at: t };
      b.tokens = Math.min(opts.burst, b.tokens + ((t - b.at) / 1000) * opts.perSecond);
      b.at = t;
      buckets.set(key, b);
      // Bounded memory: idle, refilled buckets carry no information.
      if (buckets.size > 100_000) for (const [k, v] of buckets) if (v.tokens >= opts.burst) buckets.delete(k);
      if (b.tokens >= 1) {
        b.tokens -= 1;
        return { ok: true };
      }
      return { ok: false, retryAfterMs: Math.ceil(((1 - b.tokens) / opts.perSecond) * 1000) };
    },
  };
}
