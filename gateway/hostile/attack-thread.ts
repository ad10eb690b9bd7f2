/**
 * runAttack on its own thread (through gateway/thread-boot.mjs), so the attackers' event loop is not the honest
 * clients': a bench that measures honest latency must not count the time its own attackers held the loop. Posts
 * { ready } when its payloads are built, runs until it receives "stop", then posts { report }.
 */
import { parentPort, workerData } from "node:worker_threads";
import { getDefaultBackend } from "../../device-sdk/index.ts";
import { runAttack } from "./traffic.ts";

const { url, victims } = workerData as { url: string; victims: string[] };
const stop = new AbortController();
parentPort!.once("message", () => stop.abort());
const backend = await getDefaultBackend();
const report = await runAttack({
  url,
  victims: victims.map(BigInt),
  backend,
  signal: stop.signal,
  onReady: () => parentPort!.postMessage({ ready: true }),
});
parentPort!.postMessage({ report });
