/**
 * Replay: re-execute a stored run from the stored readings, state and applet bytes, and check that the journal
 * digest, fuel and state root match what the worker recorded. This is what makes the L2 computation checkable.
 */
import { Engine } from "../runtime/index.ts";
import { unpackEpoch } from "../device-sdk/index.ts";
import { WorkerError } from "./errors.ts";
import type { ReadingStore } from "../store/index.ts";
import { runAppletFor } from "./runtime-port.ts";
import type { WorkerStore } from "../store/index.ts";

export interface ReplayReport {
  runId: number;
  imageId: string;
  deviceId: string;
  epoch: string;
  readings: number;
  stored: { journalDigest: string; fuelUsed: number; stateRoot: string; trap: string | null };
  replayed: { journalDigest: string; fuelUsed: number; stateRoot: string; trap: string | null };
  match: boolean;
  mismatches: string[];
}

export class ReplayError extends WorkerError {
  override name = "ReplayError";
}

export async function replayRun(o: {
  runId: number;
  worker: WorkerStore;
  store: ReadingStore;
  engine?: Engine;
}): Promise<ReplayReport> {
  const run = await o.worker.getRun(o.runId);
  if (!run) throw new ReplayError(`no run ${o.runId} in this database: list runs with \`mfi status\``);
  const applet = await o.worker.getApplet(run.image_id);
  if (!applet) throw new ReplayError(`run ${o.runId} names applet ${run.image_id}, which this database does not hold`);
  const deviceId = BigInt(run.device_id);
  const readings = await o.store.listReadings({
    deviceId,
    fromSeq: BigInt(run.from_seq),
    toSeq: BigInt(run.to_seq),
    limit: 1_000_000,
  });
  if (readings.length !== run.reading_count)
    throw new ReplayError(
      `run ${o.runId} used ${run.reading_count} readings but the store now has ${readings.length} in seq ${run.from_seq}..${run.to_seq}: the store was altered`,
    );
  const r = runAppletFor(o.engine ?? new Engine(), {
    applet,
    epoch: unpackEpoch(BigInt(run.epoch)),
    readings,
    state: run.state_before ? new Uint8Array(run.state_before) : undefined,
  });
  const replayed = {
    journalDigest: r.journalDigest,
    fuelUsed: r.fuelUsed,
    stateRoot: r.stateRoot,
    trap: r.trap ? `${r.trap.kind}: ${r.trap.message}` : null,
  };
  const stored = {
    journalDigest: run.journal_digest,
    fuelUsed: run.fuel_used,
    stateRoot: run.state_root,
    trap: run.trap,
  };
  const mismatches = (Object.keys(stored) as (keyof typeof stored)[])
    .filter((k) => stored[k] !== replayed[k])
    .map((k) => `${k}: stored ${stored[k]} ≠ replayed ${replayed[k]}`);
  return {
    runId: run.id,
    imageId: run.image_id,
    deviceId: run.device_id,
    epoch: run.epoch,
    readings: readings.length,
    stored,
    replayed,
    match: mismatches.length === 0,
    mismatches,
  };
}
