import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type AppletReading } from "../../runtime/index.ts";
import { parseReadingsJson, referenceClaims, runApplet } from "../../toolchain/index.ts";

const fixture = parseReadingsJson(readFileSync(join(import.meta.dirname, "fixtures", "epoch-1.json"), "utf8"));

describe("energy-sum", () => {
  it("claims the sum of values[0] per device, matching the tier-1 sum reducer", async () => {
    const r = await runApplet({ applet: "energy-sum", readings: fixture });
    expect(r.trap).toBeNull();
    const want = referenceClaims("sum", undefined, fixture);
    expect(r.decoded.claims.length).toBe(want.size);
    for (const c of r.decoded.claims) expect(c.output).toBe(want.get(c.deviceId));
    expect(r.fuelUsed).toBeGreaterThan(0);
  });

  it("counts only readings inside the epoch and gives a device with none no claim", async () => {
    const [a, b] = [11n, 22n];
    const readings: AppletReading[] = [
      { deviceId: a, seq: 1n, ts: 999n, values: [100n] }, // before the epoch
      { deviceId: a, seq: 2n, ts: 1000n, values: [5n] },
      { deviceId: a, seq: 3n, ts: 1999n, values: [7n] },
      { deviceId: a, seq: 4n, ts: 2000n, values: [1000n] }, // after (the window is half-open)
      { deviceId: b, seq: 1n, ts: 2500n, values: [9n] },
    ];
    const epoch = { startMs: 1000n, lengthMs: 1000n };
    const r = await runApplet({ applet: "energy-sum", readings, epoch });
    expect(r.decoded.claims).toEqual([{ deviceId: a, output: 12n }]);
    expect(new Map(r.decoded.claims.map((c) => [c.deviceId, c.output]))).toEqual(
      referenceClaims("sum", undefined, readings, epoch),
    );
  });

  it("gives byte-identical results for the same readings in any order", async () => {
    const r1 = await runApplet({ applet: "energy-sum", readings: fixture });
    const r2 = await runApplet({ applet: "energy-sum", readings: [...fixture].reverse() });
    expect(r2.inputDigest).toBe(r1.inputDigest);
    expect(r2.journalDigest).toBe(r1.journalDigest);
    expect(r2.fuelUsed).toBe(r1.fuelUsed);
  });
});
