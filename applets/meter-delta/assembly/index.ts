// meter-delta: a cumulative meter (values[0]) earns what it advanced over the epoch: its last reading minus its first
// one, or nothing if it went backwards (a reset). No built-in reducer looks at the order of readings: what is proven
// is this code, compiled into its own circuit.
import { claim, device, deviceCount, inEpoch, log, readingTs, readingValue } from "../../sdk/assembly/index";

export function mfi_main(): void {
  const n = deviceCount();
  for (let i: u32 = 0; i < n; i++) {
    const d = device(i);
    const end = d.firstReading + d.readingCount;
    let first: i64 = 0;
    let last: i64 = 0;
    let seen = false;
    for (let r = d.firstReading; r < end; r++) {
      if (!inEpoch(readingTs(r))) continue;
      const v = readingValue(r, 0);
      if (!seen) first = v;
      last = v;
      seen = true;
    }
    if (seen) claim(d, last >= first ? <u64>(last - first) : 0);
  }
  log("meter-delta: " + n.toString() + " devices");
}
