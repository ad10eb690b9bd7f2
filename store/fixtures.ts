/**
 * Test fixtures for what comes after a run (batches, the dashboard, the batcher): a stored run of a stand-in applet
 * (its outcome's digests are placeholders) with one claim of `output` for the device, as EpochWorker stores a real one.
 */
import type { WorkerStore } from "./worker-types.ts";

type RunArgs = Parameters<WorkerStore["recordRun"]>[0];

export async function recordClaimRun(
  worker: WorkerStore,
  o: { applet: RunArgs["applet"]; deviceId: bigint; epoch: bigint; output: bigint; readings?: RunArgs["readings"] },
): Promise<number> {
  return worker.recordRun({
    applet: o.applet,
    deviceId: o.deviceId,
    epoch: o.epoch,
    readings: o.readings ?? [{ seq: 1n, ts: 0n } as never],
    stateBefore: undefined,
    outcome: {
      inputDigest: "i",
      journal: new Uint8Array([1]),
      journalDigest: "j",
      fuelUsed: 1n,
      stateRoot: "s",
      state: new Uint8Array(),
      claims: [],
    },
    claims: [{ deviceId: o.deviceId, output: o.output }],
    now: 0,
  });
}
