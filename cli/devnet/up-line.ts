/**
 * Issue 22: the "devnet is up" line says what the time went on: the build (cached or the first run's setup) and the
 * start; with mock proofs, that the build left out the trusted setup and the provers (issue 21).
 */
export function upLine(o: { startMs: number; buildMs: number | undefined; mockProofs?: boolean }): string {
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  if (o.buildMs === undefined) return `machinefi devnet is up (${s(o.startMs)}; build skipped)`;
  const build = o.mockProofs ? `build ${s(o.buildMs)} without trusted setup (mock proofs)` : `build ${s(o.buildMs)}`;
  return `machinefi devnet is up (${s(o.startMs + o.buildMs)}: ${build}, start ${s(o.startMs)})`;
}
