import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { AppletReading } from "../../runtime/index.ts";
import { parseReadingsJson, runApplet } from "../../toolchain/index.ts";

const fixture = parseReadingsJson(readFileSync(join(import.meta.dirname, "fixtures", "epoch-1.json"), "utf8"));
const HOUR = 3_600_000n;

/** The rule, written here independently of the applet: values[0] of readings from 17:00 (inclusive) to 21:00 UTC. */
function reference(readings: AppletReading[], epoch = { startMs: 0n, lengthMs: 1n << 48n }): Map<bigint, bigint> {
  const out = new Map<bigint, bigint>();
  for (const r of readings) {
    if (r.ts < epoch.startMs || r.ts >= epoch.startMs + epoch.lengthMs) continue;
    const hour = (r.ts % (24n * HOUR)) / HOUR;
    out.set(r.deviceId, (out.get(r.deviceId) ?? 0n) + (hour >= 17n && hour < 21n ? r.values[0]! : 0n));
  }
  return out;
}

describe("peak-energy", () => {
  it("claims each device's energy during 17:00–21:00 UTC (fixture: 16:30 to 17:50)", async () => {
    const r = await runApplet({ applet: "peak-energy", readings: fixture });
    expect(r.trap).toBeNull();
    const got = new Map(r.decoded.claims.map((c) => [c.deviceId, c.output]));
    expect(got).toEqual(reference(fixture));
    expect(got).toEqual(
      new Map([
        [101n, 93n],
        [202n, 123n],
        [303n, 153n],
      ]),
    );
  });

  it("pays nothing outside the peak, counts 20:59:59.999 and not 21:00, and claims 0 for a device seen off-peak", async () => {
    const day = 1_764_028_800_000n; // 2025-11-25 00:00 UTC
    const readings: AppletReading[] = [
      { deviceId: 1n, seq: 1n, ts: day + 17n * HOUR - 1n, values: [1000n] },
      { deviceId: 1n, seq: 2n, ts: day + 17n * HOUR, values: [5n] },
      { deviceId: 1n, seq: 3n, ts: day + 21n * HOUR - 1n, values: [7n] },
      { deviceId: 1n, seq: 4n, ts: day + 21n * HOUR, values: [1000n] },
      { deviceId: 2n, seq: 1n, ts: day + 3n * HOUR, values: [50n] },
    ];
    const epoch = { startMs: day, lengthMs: 24n * HOUR };
    const r = await runApplet({ applet: "peak-energy", readings, epoch });
    expect(r.decoded.claims).toEqual([
      { deviceId: 1n, output: 12n },
      { deviceId: 2n, output: 0n },
    ]);
    expect(new Map(r.decoded.claims.map((c) => [c.deviceId, c.output]))).toEqual(reference(readings, epoch));
  });
});
