/**
 * Rate of a CPU-bound loop on several threads at once, for the ingest benches: each thread boots `entry` (through
 * thread-boot.mjs, so TypeScript loads), reports ready, then counts what it finished in the same 3 s window, started
 * at one agreed instant so no thread runs alone while the others boot. Threads that report their CPU time (cpuUs,
 * bench-cpu.ts) also give the CPU time per operation, which the load of other processes does not move.
 */
import { Worker } from "node:worker_threads";

export async function threadRate(entry: URL, workerData: readonly Record<string, unknown>[]): Promise<number> {
  return (await threadRun(entry, workerData)).perS;
}

/** Operations per second on all threads together, and CPU-µs per operation when every thread reported its CPU time. */
export async function threadRun(
  entry: URL,
  workerData: readonly Record<string, unknown>[],
): Promise<{ perS: number; cpuUsPerOp: number | undefined }> {
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
        new Promise<{ done: number; cpuUs?: number }>(
          (res, rej) => (
            t.w.once("message", (m: { done: number; cpuUs?: number }) => res(m)),
            t.w.once("error", rej),
            t.w.postMessage({ windowMs, at })
          ),
        ),
    ),
  );
  await Promise.all(threads.map((t) => t.w.terminate()));
  const done = counts.reduce((a, b) => a + b.done, 0);
  const cpu = counts.every((c) => c.cpuUs !== undefined) ? counts.reduce((a, b) => a + b.cpuUs!, 0) : undefined;
  return { perS: (done * 1000) / windowMs, cpuUsPerOp: cpu === undefined || done === 0 ? undefined : cpu / done };
}
