/**
 * Issue 18 follow-up: a devnet run rotates a device's key (cli/devnet/lifecycle.ts) and used to end with one failed
 * claim per applet, `PayoutVault__KeyNotValid`, for the epoch of the rotation (the old key's validity ends in it, the
 * new key's starts in it), so the dashboard said "Needs attention". The worker now asks DeviceRegistry before keeping a
 * claim: the rotation epoch's claims are not claimable, never proved, and nothing fails. Real anvil, gateway, fleet and
 * worker in this process, mock proofs, short epochs.
 */
import { afterAll, describe, expect, it } from "vitest";
import { loadConfig } from "../cli/config.ts";
import { startDevnet, type Devnet } from "../cli/devnet/devnet.ts";
import type { WorkerEvent } from "../worker/index.ts";
import { waitFor } from "./helpers.ts";

let net: Devnet | undefined;
afterAll(async () => {
  await net?.stop();
});

describe("devnet: the epoch of a key rotation", () => {
  it("is not claimed under either key: no claim fails, the new key's later epochs are paid", async () => {
    const events: WorkerEvent[] = [];
    const lines: string[] = [];
    net = await startDevnet({
      config: loadConfig({ env: {}, overrides: { devices: 2, simulate: true, epochMs: 3000 } }),
      applets: ["energy-sum"],
      mockProofs: true,
      lifecycle: true,
      onEvent: (e) => events.push(e),
      log: (m) => lines.push(m),
    });
    const rotated = () => {
      const line = lines.find((l) => /rotated its key to/.test(l));
      return line && /to (0x[0-9a-f]{6})/.exec(line)?.[1];
    };
    await waitFor(() => !!rotated(), 180_000);
    const newKey = rotated()!;
    const mine = (e: WorkerEvent) => e.type === "run" && `0x${e.deviceId.toString(16)}`.startsWith(newKey);
    const unclaimable = (e: WorkerEvent) => (e.type === "run" ? e.unclaimable : undefined);
    // A later epoch of the new key makes a claim that is kept. Its first epoch is dropped ("not claimable") when its
    // first readings fell in the epoch of the rotation; when they fell after it, there is nothing to drop: which one
    // happens depends on the fleet's tick against the rotation's block. The old key's last epoch is never run (its
    // chain stops inside it; the applet's cursor passes it after the seal timeout, 60 s).
    await waitFor(() => events.some((e) => mine(e) && !unclaimable(e) && e.type === "run" && e.claims > 0), 240_000);
    // and claims made after it are paid (two more payments)
    const paid = () => events.filter((e) => e.type === "claim" && e.state === "paid").length;
    const before = paid();
    await waitFor(() => paid() >= before + 2, 120_000);
    const failed = events.filter((e) => e.type === "claim" && e.state === "failed");
    expect(failed).toEqual([]);
    const dropped = events.filter((e) => e.type === "run" && e.unclaimable);
    for (const e of dropped) expect(unclaimable(e)).toMatch(/^not claimable: key 0x/);
    // only the new key's first epoch can be dropped: the other device's and the new key's later epochs are kept
    expect(dropped.length).toBeLessThanOrEqual(1);
  }, 600_000);
});
