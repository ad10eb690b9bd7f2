/**
 * Which epochs can be closed: those whose window ended at least `graceMs` ago. Epochs are aligned to multiples of
 * their length (device-sdk/epoch.ts), so the cursor is always an epoch start.
 */
import { packEpoch, type EpochWindow } from "../../device-sdk/index.ts";

export function closableEpochs(cursorMs: number, nowMs: number, epochMs: number, graceMs: number, max = 1000): EpochWindow[] {
  const out: EpochWindow[] = [];
  let start = cursorMs - (cursorMs % epochMs);
  while (start + epochMs + graceMs <= nowMs && out.length < max) {
    out.push({ startMs: BigInt(start), lengthMs: BigInt(epochMs) });
    start += epochMs;
  }
  return out;
}

export function epochKey(w: EpochWindow): string {
  return packEpoch(w).toString();
}
