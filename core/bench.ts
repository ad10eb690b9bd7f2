/**
 * Shared shape of benchmark results. Every layer's `bench.ts` default-exports a Bench; scripts/bench.ts runs them,
 * prints one table and writes build/bench/<name>.json as [{ id, value, unit, baseline?, ratio? }].
 * Ratios are measured against a baseline in the same run, so they mean something on any machine.
 */
export interface BenchResult {
  id: string;
  value: number;
  unit: string;
  baseline?: number;
  ratio?: number;
  note?: string;
}

export interface Bench {
  /** File name under build/bench/ (e.g. "runtime" → build/bench/runtime.json). */
  name: string;
  run(log: (msg: string) => void): Promise<BenchResult[]>;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

export function geomean(xs: number[]): number {
  return Math.exp(xs.reduce((a, x) => a + Math.log(x), 0) / xs.length);
}

/** Wall time of fn in milliseconds (high resolution). */
export async function timeMs(fn: () => unknown | Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

/** Run fn repeatedly for at least minMs (after warmup) and return operations per second. */
export async function opsPerSecond(
  fn: () => unknown | Promise<unknown>,
  opts: { minMs?: number; warmup?: number; batch?: number } = {},
): Promise<number> {
  const { minMs = 1000, warmup = 3, batch = 1 } = opts;
  for (let i = 0; i < warmup; i++) await fn();
  let n = 0;
  const t0 = performance.now();
  let elapsed = 0;
  while (elapsed < minMs) {
    await fn();
    n += batch;
    elapsed = performance.now() - t0;
  }
  return (n * 1000) / elapsed;
}
