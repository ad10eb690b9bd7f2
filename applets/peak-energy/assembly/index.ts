// peak-energy: per device, the energy (values[0], watt-hours) it delivered during the evening peak, 17:00–21:00 UTC,
// over the epoch's readings → one claim; readings outside the peak earn nothing. No built-in reducer filters on the
// time of day: what is proven is this code, compiled into its own circuit.
import { claim, device, deviceCount, inEpoch, log, readingTs, readingValue } from "../../sdk/assembly/index";

const DAY_S: u64 = 86_400;
const PEAK_FROM_S: u64 = 17 * 3600;
const PEAK_TO_S: u64 = 21 * 3600;

export function mfi_main(): void {
  const n = deviceCount();
  for (let i: u32 = 0; i < n; i++) {
    const d = device(i);
    const end = d.firstReading + d.readingCount;
    let energy: i64 = 0;
    let seen: u32 = 0;
    for (let r = d.firstReading; r < end; r++) {
      const ts = readingTs(r);
      if (!inEpoch(ts)) continue;
      seen++;
      const second = (ts / 1000) % DAY_S;
      if (second >= PEAK_FROM_S && second < PEAK_TO_S) energy += readingValue(r, 0);
    }
    if (seen > 0) claim(d, <u64>energy);
  }
  log("peak-energy: " + n.toString() + " devices");
}
