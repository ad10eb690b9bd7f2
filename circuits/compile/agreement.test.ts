/**
 * circuitAgreement, the check `mfi test` runs on an applet's fixtures: the compiled claim circuit (circom2, witness
 * calculator) against the runtime, device by device; another applet's circuit disagrees, too many readings are skipped.
 */
import { describe, expect, it } from "vitest";
import type { AppletReading } from "../../runtime/index.ts";
import { circuitAgreement } from "./agreement.ts";
import { fixture } from "./differential.ts";
import { compileApplet } from "./index.ts";

/** Device a: 3 readings, b: 5 readings (a cumulative meter that goes up, then resets), c: 6 readings. */
function readings(): AppletReading[] {
  const out: AppletReading[] = [];
  const add = (deviceId: bigint, vs: bigint[]) =>
    vs.forEach((v, i) =>
      out.push({ deviceId, seq: BigInt(i + 1), ts: 1_764_000_000_000n + BigInt(i) * 60_000n, values: [v, 0n] }),
    );
  add(11n, [10n, 25n, 40n]);
  add(22n, [100n, 130n, 170n, 5n, 9n]);
  add(33n, [1n, 2n, 3n, 4n, 5n, 6n]);
  return out;
}

describe("circuitAgreement", { timeout: 300_000 }, () => {
  it("the compiled circuit claims what the run claims, per device", async () => {
    const wasm = await fixture("meter-delta");
    const r = await circuitAgreement({ wasm, hasParam: false, readings: readings(), ks: [4, 8] });
    expect(r).toEqual({ checked: 3, disagreements: [], skipped: [] });
  });

  it("finds a disagreement when the circuit is another applet's, and skips a device with more readings than K", async () => {
    const wasm = await fixture("meter-delta");
    const other = await fixture("peak-energy");
    const r = await circuitAgreement({
      wasm,
      hasParam: false,
      readings: readings(),
      ks: [4],
      claimMain: (k) => compileApplet({ wasm: other, k, hasParam: false }).claimOnlyMain,
    });
    expect(r.checked).toBe(1);
    // meter-delta claims 30 for device 11 (40 - 10); peak-energy claims 0 at 16:00 UTC
    expect(r.disagreements).toEqual([{ deviceId: 11n, k: 4, runtime: 30n, circuit: 0n }]);
    expect(r.skipped.map((s) => s.deviceId)).toEqual([22n, 33n]);
    expect(r.skipped[0]!.why).toMatch(/more than K = 4/);
  });
});
