/**
 * One thread of the ingest bench's floors. mode "verify" (default): plain single-signature verifications
 * (backend.verify, one at a time) of signatures by distinct keys, so neither batch verification nor a shared per-key
 * term inflates "raw". mode "hash": hashReading of distinct readings (Poseidon of 8 inputs, the backend's
 * implementation, as the gateway links each reading into its chain): with one signature per batch of 100, that is the
 * floor of batched ingest.
 */
import { parentPort, workerData } from "node:worker_threads";
import { threadCpuUs } from "./bench-cpu.ts";
import { hashReading, loadBackendByName, usePoseidonOf, type Reading, type VerifyItem } from "../device-sdk/index.ts";
import { testKey } from "./testing.ts";

const { backendName, keys, seed, mode } = workerData as {
  backendName: string;
  keys: number;
  seed: number;
  mode?: "verify" | "hash";
};
const backend = await loadBackendByName(backendName);
usePoseidonOf(backend);
const items: VerifyItem[] = Array.from({ length: keys }, (_, i) => {
  const k = testKey(backend, seed + i);
  const msg = BigInt(seed + i + 1) * 0x9e3779b97f4a7c15n;
  return { msg, sig: backend.sign(k.privateKey, msg), publicKey: k.publicKey };
});
const readings: Reading[] = Array.from({ length: keys }, (_, i) => ({
  deviceId: BigInt(seed + i) * 0x9e3779b97f4a7c15n,
  seq: BigInt(i + 1),
  ts: 1_700_000_000_000n + BigInt(i),
  values: [BigInt(i), -BigInt(i), 1000n + BigInt(i), 0n],
  prev: BigInt(seed + i + 7) * 0x632be59bd9b4e019n,
}));
const work =
  mode === "hash"
    ? (i: number) => void hashReading(readings[i % readings.length]!)
    : (i: number) => {
        if (!backend.verify(items[i % items.length]!)) throw new Error("a valid signature failed to verify");
      };
parentPort!.on("message", (m: { windowMs: number; at: number }) => {
  // Start together (the parent's clock, shared by threads), count operations until the window ends.
  while (performance.timeOrigin + performance.now() < m.at) {}
  const end = m.at + m.windowMs;
  let done = 0;
  const c0 = threadCpuUs();
  while (performance.timeOrigin + performance.now() < end) work(done++);
  const c1 = threadCpuUs();
  parentPort!.postMessage({ done, cpuUs: c0 === undefined || c1 === undefined ? undefined : c1 - c0 });
});
parentPort!.postMessage({ ready: true });
