/** Issue 22: the "devnet is up" line says what the time went on: the build (cached or the first run's setup) and the start. */
export function upLine(o: { startMs: number; buildMs: number | undefined }): string {
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  if (o.buildMs === undefined) return `machinefi devnet is up (${s(o.startMs)}; build skipped)`;
  return `machinefi devnet is up (${s(o.startMs + o.buildMs)}: build ${s(o.buildMs)}, start ${s(o.startMs)})`;
}
