import { describe, expect, it } from "vitest";
import { eventLine } from "./events.ts";

describe("eventLine", () => {
  it("says which applet-epoch waits for the chain, for which device, and why", () => {
    const line = eventLine(
      {
        type: "chain-wait",
        imageId: "ab".repeat(32),
        epoch: (10_000n << 32n) | 10_000n,
        deviceId: 42n,
        reason: "cannot read PayoutVault.stateOf(0xabab…) from the chain; the run waits for the next pass",
      },
      { names: new Map([["ab".repeat(32), "energy-sum"]]) },
    );
    expect(line).toBe(
      "  … energy-sum: epoch 10000 waits for the chain (device 42): cannot read PayoutVault.stateOf(0xabab…) from the chain; the run waits for the next pass",
    );
  });
});
