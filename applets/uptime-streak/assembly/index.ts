// uptime-streak: a device reports values[0] = 1 when its service is up and 0 when down. Each epoch it claims its
// number of up reports (reducer `count_above` with param 0, as the circuit proves), and it keeps a per-device
// streak of consecutive epochs with no down report in state (keys "streak" and "best", constant: the circuit
// commits to them), emitted as a fixed-size record each epoch (emitWords: text whose length depends on the streak
// would not be provable).
import { claim, configParam, device, deviceCount, emitWords, inEpoch, log, readingTs, readingValue, state } from "../../sdk/assembly/index";

export function mfi_main(): void {
  const threshold = configParam(0);
  const n = deviceCount();
  for (let i: u32 = 0; i < n; i++) {
    const d = device(i);
    const first = d.firstReading;
    const end = first + d.readingCount;
    let up: u64 = 0;
    let seen: u64 = 0;
    for (let r = first; r < end; r++) {
      if (!inEpoch(readingTs(r))) continue;
      seen++;
      if (readingValue(r, 0) > threshold) up++;
    }
    if (seen == 0) continue; // no report this epoch: no claim, and the streak is left as it was
    let streak = state.getU64(d, "streak", 0);
    streak = up == seen ? streak + 1 : 0;
    state.setU64(d, "streak", streak);
    // Set unconditionally (a branch around an SDK state call would allocate on one path only: not provable).
    const best = state.getU64(d, "best", 0);
    state.setU64(d, "best", streak > best ? streak : best);
    emitWords(<i64>i, <i64>streak, <i64>up, <i64>seen);
    claim(d, up);
  }
  log("uptime-streak: " + n.toString() + " devices");
}
