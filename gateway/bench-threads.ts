/**
 * Rate of a CPU-bound loop on several threads at once, for the ingest benches: each thread boots `entry` (through
 * thread-boot.mjs, so TypeScript loads), reports ready, then counts what it finished in the same 3 s window, started
 * at one agreed instant so no thread runs alone while the others boot.
 */
import { Worker } from "node:worker_threads";

export async function threadRate(entry: URL, workerData: readonly Record<string, unknown>[]): Promise<number> {
  const threads = workerData.map((data) => {
    const w = new Worker(new URL("./thread-boot.mjs", import.meta.url), {
      workerData: { ...data, entry: entry.href },
      execArgv: [],
    });
    return { w, ready: new Promise<void>((res, rej) => (w.once("message", () => res()), w.once("error", rej))) };
  });
  await Promise.all(threads.map((t) => t.ready));
  const windowMs = 3000;
  const at = performance.timeOrigin + performance.now() + 100;
  const counts = await Promise.all(
    threads.map(
      (t) =>
        new Promise<number>(
          (res, rej) => (
            t.w.once("message", (m: { done: number }) => res(m.done)),
            t.w.once("error", rej),
            t.w.postMessage({ windowMs, at })
          ),
        ),
    ),
  );
  await Promise.all(threads.map((t) => t.w.terminate()));
  return (counts.reduce((a, b) => a + b, 0) * 1000) / windowMs;
}
