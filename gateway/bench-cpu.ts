/**
 * CPU time of threads and processes for the ingest benches, from /proc (Linux). Wall-clock rates on a machine that
 * other work shares move with its load; CPU time per reading of each part (load generator, broker, gateway threads)
 * says where the work goes and compares with the crypto floor's own CPU time per reading. undefined where /proc is
 * missing (then the benches report rates only).
 */
import { readdirSync, readFileSync } from "node:fs";

/** utime + stime of a /proc stat file, in µs (clock ticks of 10 ms: measure windows of seconds). */
function statUs(path: string): number | undefined {
  try {
    const f = readFileSync(path, "utf8");
    const fields = f.slice(f.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 10_000;
  } catch {
    return undefined;
  }
}

/** CPU time of the calling thread (main or worker), µs. */
export const threadCpuUs = (): number | undefined => statUs("/proc/thread-self/stat");

/** CPU time of another process (all its threads), µs. */
export const processCpuUs = (pid: number): number | undefined => statUs(`/proc/${pid}/stat`);

/** CPU time of this process's main thread, µs. */
export const mainThreadCpuUs = (): number | undefined => statUs(`/proc/${process.pid}/task/${process.pid}/stat`);

/** CPU time of the whole of this process (every thread), µs: portable. */
export function ownProcessCpuUs(): number {
  const c = process.cpuUsage();
  return c.user + c.system;
}

/** a − b per reading, or undefined when either side is unknown. */
export function perReading(a: number | undefined, b: number | undefined, readings: number): number | undefined {
  return a === undefined || b === undefined || readings === 0 ? undefined : (a - b) / readings;
}

/** CPU time of each thread of this process by thread id, µs (empty where /proc is missing). */
export function threadsCpuUs(): Map<string, number> {
  const out = new Map<string, number>();
  let tids: string[] = [];
  try {
    tids = readdirSync("/proc/self/task");
  } catch {
    return out;
  }
  for (const t of tids) {
    const us = statUs(`/proc/self/task/${t}/stat`);
    if (us !== undefined) out.set(t, us);
  }
  return out;
}

/** The busiest threads between two threadsCpuUs() snapshots, CPU-µs per reading, largest first. */
export function busiestThreads(a: Map<string, number>, b: Map<string, number>, readings: number, top = 8): number[] {
  return [...b]
    .map(([t, us]) => (us - (a.get(t) ?? 0)) / readings)
    .sort((x, y) => y - x)
    .slice(0, top);
}
