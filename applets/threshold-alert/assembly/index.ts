// threshold-alert: per device, count the epoch's readings whose values[0] is strictly above the configured
// threshold (the manifest param, passed in the config blob), emit one alert record per such reading, and claim
// the count. An alert is a fixed-size record (emitWords: seq, value, threshold, 0), not text: text whose length
// depends on a reading cannot be compiled into the applet's circuit (docs/circuits.md, "Compiled applets").
import { claim, configParam, device, deviceCount, emitWords, inEpoch, log, readingSeq, readingTs, readingValue } from "../../sdk/assembly/index";

export function mfi_main(): void {
  const threshold = configParam(0);
  const n = deviceCount();
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
        emitWords(<i64>readingSeq(r), v, threshold, 0);
      }
    }
    if (seen > 0) claim(d, above);
  }
  log("threshold-alert: " + n.toString() + " devices");
}
