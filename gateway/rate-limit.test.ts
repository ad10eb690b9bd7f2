import { describe, expect, it } from "vitest";
import { GatewayError } from "./errors.ts";
import { createRateLimiter } from "./rate-limit.ts";

describe("rate limiter", () => {
  it("beyond 100,000 devices: stale buckets are refilled before comparing and evicted by age, memory stays bounded", () => {
    let t = 0;
    const rl = createRateLimiter({ perSecond: 1, burst: 2 }, () => t);
    // 100,001 devices each spend their burst at t=0 (the old limiter kept them all and scanned them on every request).
    for (let d = 0n; d <= 100_000n; d++) {
      expect(rl.take(d).ok).toBe(true);
      expect(rl.take(d).ok).toBe(true);
    }
    expect(rl.size()).toBeLessThanOrEqual(100_000);
    // The most recent devices are still throttled: eviction took the stalest, not the ones that just spent.
    expect(rl.take(100_000n)).toEqual({ ok: false, retryAfterMs: 1000 });
    // Two seconds later every bucket has refilled: a request finds the stale ones full and drops them.
    t = 2000;
    expect(rl.take(5n).ok).toBe(true);
    expect(rl.size()).toBe(1);
    expect(rl.take(100_000n).ok).toBe(true);
    expect(rl.take(100_000n).ok).toBe(true);
    expect(rl.take(100_000n).ok).toBe(false);
  });

  it("check reads without taking; charge takes after the fact and may go into debt", () => {
    let t = 0;
    const rl = createRateLimiter<string>({ perSecond: 2, burst: 1 }, () => t);
    expect(rl.check("a")).toEqual({ ok: true });
    expect(rl.check("a")).toEqual({ ok: true });
    rl.charge("a");
    rl.charge("a");
    expect(rl.check("a")).toEqual({ ok: false, retryAfterMs: 1000 });
    t = 1000;
    expect(rl.check("a")).toEqual({ ok: true });
  });

  it("refuses a rate that would make Retry-After Infinity or NaN", () => {
    for (const bad of [
      { perSecond: 0, burst: 1 },
      { perSecond: Number.NaN, burst: 1 },
      { perSecond: 1, burst: 0 },
    ])
      expect(() => createRateLimiter(bad, Date.now)).toThrow(GatewayError);
  });
});
