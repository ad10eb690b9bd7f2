/**
 * One thread of the crypto floor (gateway/mqtt/bench.ts): per reading only the work no transport can avoid, the
 * Poseidon hash that links it into its chain and the signature check on that hash. No parsing, no I/O.
 */
import { parentPort, workerData } from "node:worker_threads";
import { threadCpuUs } from "../bench-cpu.ts";
import { hashReading, loadBackendByName } from "../../device-sdk/index.ts";
import { makeChain, testKey } from "../testing.ts";

const { backendName, seed } = workerData as { backendName: string; seed: number };
const backend = await loadBackendByName(backendName);
// distinct keys, each with a short signed chain: 64 readings
const items = Array.from({ length: 16 }, (_, i) => {
  const key = testKey(backend, seed + i);
  return makeChain(backend, key, 4).readings.map((r) => ({ r, publicKey: key.publicKey }));
}).flat();
parentPort!.on("message", (m: { windowMs: number; at: number }) => {
  while (performance.timeOrigin + performance.now() < m.at) {}
  const end = m.at + m.windowMs;
  let done = 0;
  const c0 = threadCpuUs();
  while (performance.timeOrigin + performance.now() < end) {
    const { r, publicKey } = items[done % items.length]!;
    const msg = hashReading(r);
    if (!backend.verify({ msg, sig: r.signature!, publicKey })) throw new Error("a valid reading failed to verify");
    done++;
  }
  const c1 = threadCpuUs();
  parentPort!.postMessage({ done, cpuUs: c0 === undefined || c1 === undefined ? undefined : c1 - c0 });
});
parentPort!.postMessage({ ready: true });
