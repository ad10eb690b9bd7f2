/**
 * Run by writer.test.ts in a child process: a file store committing on its writer thread, 40 devices appending,
 * close() while groups are queued and in flight, then process.exit — the devnet's stop, without the devnet. Prints
 * how many readings were acknowledged; a native crash at exit shows as a signal or a non-zero exit code.
 */
import { genesisHash, padValues, type SignedReading } from "../../device-sdk/index.ts";
import { openSqliteStore } from "./open.ts";

const [path, mode] = process.argv.slice(2) as [string, "close" | "exit"];
const store = openSqliteStore(path);
// Fake hashes are fine: the store checks links (seq, prev), not hashes.
const chain = (d: bigint, n: number): SignedReading[] => {
  let prev = genesisHash(d);
  return Array.from({ length: n }, (_, i) => {
    const r = {
      deviceId: d,
      seq: BigInt(i + 1),
      ts: BigInt(i),
      values: padValues([1n]),
      prev,
      hash: d * 1000n + BigInt(i + 1),
      signature: null,
    };
    prev = r.hash;
    return r;
  });
};
let acked = 0;
const streams = Array.from({ length: 40 }, async (_, k) => {
  const d = BigInt(k + 1);
  const c = chain(d, 200);
  for (let i = 0; i < c.length; i += 5) {
    try {
      if ((await store.appendReadings(d, c.slice(i, i + 5), 1)).ok) acked += 5;
    } catch {
      return;
    }
  }
});
await store.appendReadings(999n, chain(999n, 1), 1);
acked += 1;
// "exit": leave with groups in flight on the writer thread (a second Ctrl-C); "close": the orderly stop.
if (mode === "exit") process.exit(0);
await store.close();
await Promise.all(streams);
process.stdout.write(`${acked}\n`);
process.exit(0);
