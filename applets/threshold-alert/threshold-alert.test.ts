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
    expect(new TextDecoder().decode(r.decoded.records[0])).toMatch(
      /^alert device=[0-9a-f]+ seq=\d+ value=\d+ threshold=300$/,
    );
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
