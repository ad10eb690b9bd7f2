import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { stateRoot, type AppletState } from "../../runtime/index.ts";
import { parseReadingsJson, referenceClaims, runApplet } from "../../toolchain/index.ts";

const epochs = [1, 2, 3].map((e) =>
  parseReadingsJson(readFileSync(join(import.meta.dirname, "fixtures", `epoch-${e}.json`), "utf8")),
);
const streakOf = (state: AppletState, device: bigint) => {
  const hex = state[device.toString()]?.[Buffer.from("streak").toString("hex")];
  return hex === undefined ? undefined : Buffer.from(hex, "hex").readBigUInt64LE(0);
};

describe("uptime-streak", () => {
  it("carries a per-device streak across epochs in state and claims count_above(0)", async () => {
    let state: AppletState = {};
    const streaks: (bigint | undefined)[][] = [];
    const devices = [...new Set(epochs[0]!.map((r) => r.deviceId))].sort((a, b) => (a < b ? -1 : 1));
    for (const readings of epochs) {
      const r = await runApplet({ applet: "uptime-streak", readings, state });
      expect(r.trap).toBeNull();
      expect(new Map(r.decoded.claims.map((c) => [c.deviceId, c.output]))).toEqual(
        referenceClaims("count_above", 0n, readings),
      );
      expect(r.stateRoot).toBe(stateRoot(r.state));
      state = r.state;
      streaks.push(devices.map((d) => streakOf(state, d)));
    }
    // Fixtures: one device always up, one down once in epoch 2, one silent in epoch 3 (its streak is kept).
    const byDevice = devices.map((_, i) => streaks.map((s) => s[i]));
    expect(byDevice).toContainEqual([1n, 2n, 3n]);
    expect(byDevice).toContainEqual([1n, 0n, 1n]);
    expect(byDevice).toContainEqual([1n, 2n, 2n]);
  });

  it("leaves state unchanged when the run traps", async () => {
    const first = await runApplet({ applet: "uptime-streak", readings: epochs[0]! });
    const trapped = await runApplet({ applet: "uptime-streak", readings: epochs[1]!, state: first.state, fuel: 2000 });
    expect(trapped.trap?.kind).toBe("OutOfFuel");
    expect(trapped.state).toEqual(first.state);
    expect(trapped.stateRoot).toBe(first.stateRoot);
    expect(trapped.decoded.claims).toEqual([]);
  });
});
