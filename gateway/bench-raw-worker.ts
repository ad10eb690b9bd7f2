/**
 * One thread of the bench's raw verification rate: plain single-signature verifications (backend.verify, one at a
 * time) of signatures by distinct keys, so neither batch verification nor a shared per-key term inflates "raw".
 */
import { parentPort, workerData } from "node:worker_threads";
import { loadBackendByName, type VerifyItem } from "../device-sdk/index.ts";
import { testKey } from "./testing.ts";

const { backendName, keys, seed } = workerData as { backendName: string; keys: number; seed: number };
const backend = await loadBackendByName(backendName);
const items: VerifyItem[] = Array.from({ length: keys }, (_, i) => {
  const k = testKey(backend, seed + i);
  const msg = BigInt(seed + i + 1) * 0x9e3779b97f4a7c15n;
  return { msg, sig: backend.sign(k.privateKey, msg), publicKey: k.publicKey };
});
parentPort!.on("message", (m: { windowMs: number; at: number }) => {
  // Start together (the parent's clock, shared by threads), count verifications until the window ends.
  while (performance.timeOrigin + performance.now() < m.at) {}
  const end = m.at + m.windowMs;
  let done = 0;
  while (performance.timeOrigin + performance.now() < end) {
    if (!backend.verify(items[done % items.length]!)) throw new Error("a valid signature failed to verify");
    done++;
  }
  parentPort!.postMessage({ done });
});
parentPort!.postMessage({ ready: true });
