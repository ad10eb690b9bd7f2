/**
 * An applet's epoch schedule: the only windows PayoutVault pays. A proof holds for any window around the same signed
 * readings, so the window cannot be the claimer's choice; AppletRegistry fixes `epochLengthMs` and `genesisMs` at
 * registration and the vault accepts epoch {start, length} only when length = epochLengthMs, start ≥ genesisMs,
 * (start − genesisMs) % length = 0 and start + length ≤ chain time. These helpers apply the same rule off chain
 * (the worker closes these epochs; `mfi prove` refuses others before spending a proof on them).
 */
import { SdkError } from "./errors.ts";
import type { EpochWindow } from "./epoch.ts";

/** An applet's default epoch length when applet.json declares none: one hour. */
export const DEFAULT_EPOCH_LENGTH_MS = 3_600_000n;

export interface EpochSchedule {
  /** Length of every epoch, in (0, 2^32) ms. */
  lengthMs: bigint;
  /** Start of the first epoch; epochs are genesisMs + i·lengthMs for i ≥ 0. */
  genesisMs: bigint;
}

export type ScheduleViolation = "WrongEpochLength" | "EpochBeforeGenesis" | "EpochMisaligned" | "EpochNotEnded";

/** The window is not an epoch of the applet's schedule (or has not ended): the vault would refuse its claim. */
export class EpochScheduleError extends SdkError {
  override name = "EpochScheduleError";
  constructor(
    readonly reason: ScheduleViolation,
    message: string,
    readonly schedule: EpochSchedule,
  ) {
    super(message, {
      metaMessages: [
        `The applet's schedule: epochs of ${schedule.lengthMs} ms from ${schedule.genesisMs} (Unix ms).`,
        "Pick a window with scheduledEpochOf(ts, schedule).",
      ],
      docsPath: "docs/contracts.md#epoch-schedule",
    });
  }
}

/** Why the vault would refuse this window (PayoutVault__<reason>), or undefined when it is on the schedule. */
export function scheduleViolation(w: EpochWindow, s: EpochSchedule, nowMs?: bigint): ScheduleViolation | undefined {
  if (w.lengthMs !== s.lengthMs) return "WrongEpochLength";
  if (w.startMs < s.genesisMs) return "EpochBeforeGenesis";
  if ((w.startMs - s.genesisMs) % s.lengthMs !== 0n) return "EpochMisaligned";
  if (nowMs !== undefined && w.startMs + w.lengthMs > nowMs) return "EpochNotEnded";
  return undefined;
}

/** Throws EpochScheduleError unless `w` is an epoch of `s` (and, given `nowMs`, has ended by then). */
export function assertOnSchedule(w: EpochWindow, s: EpochSchedule, nowMs?: bigint): void {
  const reason = scheduleViolation(w, s, nowMs);
  if (!reason) return;
  const text: Record<ScheduleViolation, string> = {
    WrongEpochLength: `the epoch is ${w.lengthMs} ms long; the applet's epochs are ${s.lengthMs} ms`,
    EpochBeforeGenesis: `the epoch starts at ${w.startMs}, before the applet's first epoch (${s.genesisMs})`,
    EpochMisaligned: `the epoch starts at ${w.startMs}, which is not ${s.genesisMs} + i·${s.lengthMs} (nearest: ${w.startMs - ((w.startMs - s.genesisMs) % s.lengthMs)})`,
    EpochNotEnded: `the epoch ends at ${w.startMs + w.lengthMs}, after now (${nowMs})`,
  };
  throw new EpochScheduleError(reason, text[reason], s);
}

/** The schedule's epoch containing tsMs (undefined before genesis). */
export function scheduledEpochOf(tsMs: bigint, s: EpochSchedule): EpochWindow | undefined {
  if (tsMs < s.genesisMs) return undefined;
  return { startMs: tsMs - ((tsMs - s.genesisMs) % s.lengthMs), lengthMs: s.lengthMs };
}
