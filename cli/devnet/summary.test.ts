import { describe, expect, it } from "vitest";
import { startSummary, type SummarySources } from "./summary.ts";

const counts = { pending: 1, proved: 2, submitted: 0, paid: 3, failed: 0 };

function sources(over: Partial<SummarySources> = {}): SummarySources {
  return {
    accepted: () => 100,
    claimCounts: async () => counts,
    runCounts: async () => ({ runs: 6 }),
    ownersHold: async () => 24_000_000_000_000_000n,
    ...over,
  };
}

describe("devnet summary line", () => {
  it("prints counts, rate over the time that passed, and the owners' balance in MFI", async () => {
    let t = Date.UTC(2026, 0, 1, 10, 0, 0);
    let accepted = 100;
    const lines: string[] = [];
    const s = startSummary(sources({ accepted: () => accepted }), { print: (l) => lines.push(l), now: () => t });
    s.stop();
    t += 5000;
    accepted = 150;
    await s.tick();
    expect(lines).toEqual([
      "[10:00:05] readings 150 (10.0/s) · runs 6 · claims pending 1 proved 2 submitted 0 paid 3 failed 0 · owners hold 0.024 MFI",
    ]);
  });

  it("says the chain is unreachable when the balance call fails or hangs, instead of 0 MFI", async () => {
    const lines: string[] = [];
    const down = startSummary(sources({ ownersHold: () => Promise.reject(new Error("ECONNREFUSED")) }), {
      print: (l) => lines.push(l),
    });
    down.stop();
    await down.tick();
    const hung = startSummary(sources({ ownersHold: () => new Promise(() => {}) }), {
      print: (l) => lines.push(l),
      chainTimeoutMs: 20,
    });
    hung.stop();
    await hung.tick();
    expect(lines[0]).toMatch(/chain unreachable \(ECONNREFUSED\): owners' balances unknown$/);
    expect(lines[1]).toMatch(/chain unreachable \(no answer in 20 ms\)/);
    expect(lines.join("\n")).not.toMatch(/owners hold 0 MFI/);
  });

  it("after a stall prints one line, marked late, with a later time: never a burst of lines with one time", async () => {
    let t = 1_000_000;
    const lines: string[] = [];
    const s = startSummary(sources(), { print: (l) => lines.push(l), now: () => t, everyMs: 10 });
    // The event loop is blocked for 13 slots: the clock moves, no timer runs.
    t += 130;
    while (lines.length === 0) await new Promise((r) => setTimeout(r, 1));
    s.stop();
    // The 13 missed slots are skipped, not printed: one late line (a second may follow in its own next slot).
    expect(lines.length).toBeLessThanOrEqual(2);
    expect(lines[0]).toMatch(/late 0 s \(event loop or chain stalled\)$/);
    if (lines[1]) expect(lines[1]).not.toMatch(/late/);
  });
});
