/**
 * Which epochs can be closed: those of the applet's schedule (genesisMs + i·epochMs, i ≥ 0; device-sdk/schedule.ts)
 * whose window ended at least `graceMs` ago. None before genesis: the vault would not pay them.
 */
import { packEpoch, type EpochWindow } from "../device-sdk/index.ts";

export function closableEpochs(
  cursorMs: number,
  nowMs: number,
  epochMs: number,
  graceMs: number,
  max = 1000,
  genesisMs = 0,
): EpochWindow[] {
  const out: EpochWindow[] = [];
  let start = alignToSchedule(cursorMs, epochMs, genesisMs);
  while (start + epochMs + graceMs <= nowMs && out.length < max) {
    out.push({ startMs: BigInt(start), lengthMs: BigInt(epochMs) });
    start += epochMs;
  }
  return out;
}

/** The start of the schedule's epoch containing tsMs, or genesis when tsMs is before it. */
export function alignToSchedule(tsMs: number, epochMs: number, genesisMs = 0): number {
  if (tsMs <= genesisMs) return genesisMs;
  return tsMs - ((tsMs - genesisMs) % epochMs);
}

export function epochKey(w: EpochWindow): string {
  return packEpoch(w).toString();
}
