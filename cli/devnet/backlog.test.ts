import { describe, expect, it } from "vitest";
import { watchBacklog } from "./backlog.ts";

const EPOCH = 20_000;

/** Feeds one sample every 5 s from a pending-count function of time; returns the hints and when they came. */
function drive(pendingAt: (ms: number) => number, untilMs: number, claimsPerEpoch = 30) {
  const w = watchBacklog({ epochMs: EPOCH, claimsPerEpoch });
  const hints: { atMs: number; hint: string }[] = [];
  for (let t = 0; t <= untilMs; t += 5000) {
    const h = w.sample(pendingAt(t), t);
    if (h) hints.push({ atMs: t, hint: h });
  }
  return hints;
}

describe("watchBacklog", () => {
  it("warns once when pending grows every epoch past two epochs' worth of claims", () => {
    // 30 claims per epoch, 20 of them proved: the backlog grows by 10 per epoch on top of a burst after each close.
    const hints = drive((t) => 10 * Math.floor(t / EPOCH) + 30 + (t % EPOCH < 5000 ? 30 : 0), 20 * EPOCH);
    expect(hints).toHaveLength(1);
    expect(hints[0]!.hint).toMatch(/proving falls behind: \d+ claims pending/);
    expect(hints[0]!.hint).toMatch(/--epoch-ms/);
  });

  it("stays quiet when the provers keep up: a burst after each epoch that drains", () => {
    expect(drive((t) => (t % EPOCH < 10_000 ? 30 : 0), 20 * EPOCH)).toEqual([]);
  });

  it("stays quiet while the backlog is small, even if it grows", () => {
    expect(drive((t) => Math.floor(t / EPOCH), 20 * EPOCH)).toEqual([]);
  });

  it("stays quiet when the backlog is large but shrinking", () => {
    expect(drive((t) => 500 - 10 * Math.floor(t / EPOCH), 20 * EPOCH)).toEqual([]);
  });
});
