import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { AppletReading } from "../../runtime/index.ts";
import { parseReadingsJson, runApplet } from "../../toolchain/index.ts";

const fixture = parseReadingsJson(readFileSync(join(import.meta.dirname, "fixtures", "epoch-1.json"), "utf8"));

/** The rule, written here independently of the applet: last minus first in sequence order, 0 after a reset. */
function reference(readings: AppletReading[]): Map<bigint, bigint> {
  const byDevice = new Map<bigint, AppletReading[]>();
  for (const r of readings) byDevice.set(r.deviceId, [...(byDevice.get(r.deviceId) ?? []), r]);
  return new Map(
    [...byDevice].map(([id, rs]) => {
      rs.sort((a, b) => (a.seq < b.seq ? -1 : 1));
      const delta = rs[rs.length - 1]!.values[0]! - rs[0]!.values[0]!;
      return [id, delta > 0n ? delta : 0n];
    }),
  );
}

describe("meter-delta", () => {
  it("claims how far each meter advanced: 50, nothing after a reset, nothing for a single reading", async () => {
    const r = await runApplet({ applet: "meter-delta", readings: fixture });
    expect(r.trap).toBeNull();
    const got = new Map(r.decoded.claims.map((c) => [c.deviceId, c.output]));
    expect(got).toEqual(reference(fixture));
    expect(got).toEqual(
      new Map([
        [101n, 50n],
        [202n, 0n],
        [303n, 0n],
      ]),
    );
  });

  it("takes the order of the chain, not of the values, and only the epoch's readings", async () => {
    const readings: AppletReading[] = [
      { deviceId: 7n, seq: 1n, ts: 900n, values: [1n] }, // before the epoch
      { deviceId: 7n, seq: 2n, ts: 1000n, values: [300n] },
      { deviceId: 7n, seq: 3n, ts: 1500n, values: [100n] },
      { deviceId: 7n, seq: 4n, ts: 1999n, values: [340n] },
      { deviceId: 7n, seq: 5n, ts: 2000n, values: [9000n] }, // after
    ];
    const r = await runApplet({
      applet: "meter-delta",
      readings: [...readings].reverse(),
      epoch: { startMs: 1000n, lengthMs: 1000n },
    });
    expect(r.decoded.claims).toEqual([{ deviceId: 7n, output: 40n }]);
  });
});
