// energy-sum: per device, the sum of the energy counter (values[0]) over the epoch's readings → one claim.
// Reducer `sum` (applet.json), the same as the circuit's tier-1 reducer.
import { claim, device, deviceCount, inEpoch, log, readingTs, readingValue } from "../../sdk/assembly/index";

export function mfi_main(): void {
  const n = deviceCount();
  let claims: u32 = 0;
  for (let i: u32 = 0; i < n; i++) {
    const d = device(i);
    const first = d.firstReading;
    const end = first + d.readingCount;
    let sum: i64 = 0;
    let seen: u32 = 0;
    for (let r = first; r < end; r++) {
      if (!inEpoch(readingTs(r))) continue;
      sum += readingValue(r, 0);
      seen++;
    }
    if (seen > 0) {
      claim(d, <u64>sum);
      claims++;
    }
  }
  log("energy-sum: " + claims.toString() + " claims over " + n.toString() + " devices");
}
