/**
 * Epochs: a half-open window of time [startMs, startMs + lengthMs).
 * The public `epoch` signal of a proof (and the vault's nullifier input) packs the window so it is self-describing:
 *   epoch = startMs * 2^32 + lengthMs      (lengthMs < 2^32, i.e. under ~49 days; startMs < 2^48)
 */
export interface EpochWindow {
  startMs: bigint;
  lengthMs: bigint;
}

export function packEpoch(w: EpochWindow): bigint {
  if (w.lengthMs <= 0n || w.lengthMs >= 1n << 32n)
    throw new RangeError(`epoch length ${w.lengthMs} ms must be in (0, 2^32)`);
  if (w.startMs < 0n || w.startMs >= 1n << 48n)
    throw new RangeError(`epoch start ${w.startMs} ms must be in [0, 2^48)`);
  return (w.startMs << 32n) | w.lengthMs;
}

export function unpackEpoch(epoch: bigint): EpochWindow {
  return { startMs: epoch >> 32n, lengthMs: epoch & 0xffffffffn };
}

/** The epoch of the given length containing ts (epochs are aligned to multiples of their length since Unix time 0). */
export function epochOf(tsMs: bigint, lengthMs: bigint): EpochWindow {
  return { startMs: (tsMs / lengthMs) * lengthMs, lengthMs };
}

export function inEpoch(tsMs: bigint, w: EpochWindow): boolean {
  return tsMs >= w.startMs && tsMs < w.startMs + w.lengthMs;
}
