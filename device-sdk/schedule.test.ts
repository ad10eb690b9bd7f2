import { describe, expect, it } from "vitest";
import { assertOnSchedule, EpochScheduleError, scheduledEpochOf, scheduleViolation } from "./schedule.ts";

const s = { lengthMs: 60_000n, genesisMs: 120_000n };

describe("epoch schedule", () => {
  it("accepts exactly the schedule's epochs that have ended, naming the vault's reason for the others", () => {
    expect(scheduleViolation({ startMs: 180_000n, lengthMs: 60_000n }, s, 240_000n)).toBeUndefined();
    expect(scheduleViolation({ startMs: 180_000n, lengthMs: 120_000n }, s)).toBe("WrongEpochLength");
    expect(scheduleViolation({ startMs: 60_000n, lengthMs: 60_000n }, s)).toBe("EpochBeforeGenesis");
    expect(scheduleViolation({ startMs: 179_999n, lengthMs: 60_000n }, s)).toBe("EpochMisaligned");
    expect(scheduleViolation({ startMs: 180_000n, lengthMs: 60_000n }, s, 239_999n)).toBe("EpochNotEnded");
  });

  it("throws a typed EpochScheduleError with the reason", () => {
    const err = (() => {
      try {
        assertOnSchedule({ startMs: 180_001n, lengthMs: 60_000n }, s);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(EpochScheduleError);
    expect((err as EpochScheduleError).reason).toBe("EpochMisaligned");
    expect((err as Error).message).toMatch(/nearest: 180000/);
  });

  it("finds the epoch containing a timestamp, none before genesis", () => {
    expect(scheduledEpochOf(239_999n, s)).toEqual({ startMs: 180_000n, lengthMs: 60_000n });
    expect(scheduledEpochOf(119_999n, s)).toBeUndefined();
  });
});
