import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { paramConfig } from "../../runtime/index.ts";
import { loadAppletManifest, parseReadingsJson, referenceClaims, runApplet } from "../../toolchain/index.ts";

const fixture = parseReadingsJson(readFileSync(join(import.meta.dirname, "fixtures", "epoch-1.json"), "utf8"));
const manifest = loadAppletManifest(import.meta.dirname);

describe("threshold-alert", () => {
  it("claims count_above(param) per device and emits one alert per reading above it", async () => {
    const r = await runApplet({ applet: "threshold-alert", readings: fixture });
    expect(r.trap).toBeNull();
    const want = referenceClaims("count_above", BigInt(manifest.param!), fixture);
    expect(new Map(r.decoded.claims.map((c) => [c.deviceId, c.output]))).toEqual(want);
    const total = [...want.values()].reduce((a, b) => a + b, 0n);
    expect(total).toBeGreaterThan(0n);
    expect(BigInt(r.decoded.records.length)).toBe(total);
    // Each alert is four little-endian i64 words: seq, value, threshold, 0 (fixed-size, so the applet compiles).
    for (const rec of r.decoded.records) {
      expect(rec.length).toBe(32);
      const w = new DataView(rec.buffer, rec.byteOffset, 32);
      const [seq, value, threshold, zero] = [0, 8, 16, 24].map((o) => w.getBigInt64(o, true));
      const reading = fixture.find((x) => x.seq === seq && x.values[0] === value);
      expect(reading).toBeDefined();
      expect(value).toBeGreaterThan(300n);
      expect([threshold, zero]).toEqual([300n, 0n]);
    }
  });

  it("uses the threshold from the config blob, strictly above", async () => {
    const readings = [250n, 300n, 301n, -5n].map((v, i) => ({
      deviceId: 7n,
      seq: BigInt(i + 1),
      ts: 10n,
      values: [v],
    }));
    const at300 = await runApplet({ applet: "threshold-alert", readings });
    expect(at300.decoded.claims).toEqual([{ deviceId: 7n, output: 1n }]);
    const at0 = await runApplet({ applet: "threshold-alert", readings, config: paramConfig(-10n) });
    expect(at0.decoded.claims).toEqual([{ deviceId: 7n, output: 4n }]);
    expect(at0.decoded.records.length).toBe(4);
  });
});
