// threshold-alert: per device, count the epoch's readings whose values[0] is strictly above the configured
// threshold (the manifest param, passed in the config blob), emit one alert record per such reading, and claim
// the count. Reducer `count_above` (applet.json), the same as the circuit's tier-1 reducer.
import { claim, configParam, device, deviceCount, emitText, inEpoch, log, readingTs, readingValue, Reading } from "../../sdk/assembly/index";

export function mfi_main(): void {
  const threshold = configParam(0);
  const n = deviceCount();
  let alerts: u32 = 0;
  for (let i: u32 = 0; i < n; i++) {
    const d = device(i);
    const first = d.firstReading;
    const end = first + d.readingCount;
    let above: u64 = 0;
    let seen: u32 = 0;
    for (let r = first; r < end; r++) {
      if (!inEpoch(readingTs(r))) continue;
      seen++;
      const v = readingValue(r, 0);
      if (v > threshold) {
        above++;
        emitText("alert device=" + d.shortId.toString(16) + " seq=" + new Reading(r).seq.toString() + " value=" + v.toString() + " threshold=" + threshold.toString());
      }
    }
    if (seen > 0) claim(d, above);
    alerts += <u32>above;
  }
  log("threshold-alert: " + alerts.toString() + " alerts above " + threshold.toString());
}
