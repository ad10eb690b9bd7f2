import { describe, expect, it } from "vitest";
import { threadWriter } from "./writer.ts";

describe("threadWriter", () => {
  it("reports unhealthy once its thread failed, so /readyz says not ready instead of accepting posts it cannot store", async () => {
    // A database the thread cannot open: the first append starts the thread, which fails.
    const w = threadWriter("/nonexistent-dir-for-mfi-test/x.sqlite", "FULL");
    expect(w.healthy()).toBe(true);
    await expect(w.run([{ deviceId: 1n, readings: [], receivedAt: 0 }])).rejects.toThrow();
    expect(w.healthy()).toBe(false);
    await expect(w.run([])).rejects.toThrow();
    await w.close();
  }, 60_000);
});
