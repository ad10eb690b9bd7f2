/**
 * Notices when proving falls behind the claims the devnet makes, so an operator who shortened epochs or added devices
 * is told why claims pile up and what to change, once, instead of watching "pending" grow without a word.
 */
export interface BacklogWatch {
  /** Feed the pending-claim count at time `atMs`; returns a hint the first time the backlog is judged to grow. */
  sample(pending: number, atMs: number): string | undefined;
}

/**
 * The backlog grows when the pending count went up across each of the last `epochs` epochs and exceeds two epochs'
 * worth of claims (`claimsPerEpoch`); one slow epoch (a burst of proofs right after an epoch closes) is not enough.
 */
export function watchBacklog(o: { epochMs: number; claimsPerEpoch: number; epochs?: number }): BacklogWatch {
  const epochs = o.epochs ?? 3;
  const samples: { pending: number; atMs: number }[] = [];
  let warned = false;
  return {
    sample(pending, atMs) {
      samples.push({ pending, atMs });
      // Keep just enough history to look `epochs` epochs back.
      while (samples.length > 2 && atMs - samples[1]!.atMs >= epochs * o.epochMs) samples.shift();
      if (warned || atMs - samples[0]!.atMs < epochs * o.epochMs) return undefined;
      const at = (k: number) => {
        const t = atMs - k * o.epochMs;
        let best = samples[0]!;
        for (const s of samples) if (s.atMs <= t) best = s;
        return best.pending;
      };
      const series = Array.from({ length: epochs + 1 }, (_, i) => at(epochs - i));
      const growing = series.every((v, i) => i === 0 || v > series[i - 1]!);
      if (!growing || pending <= 2 * o.claimsPerEpoch) return undefined;
      warned = true;
      return (
        `proving falls behind: ${pending} claims pending and growing for ${epochs} epochs (about ${o.claimsPerEpoch} new claims per epoch). ` +
        `Lengthen epochs (--epoch-ms), run fewer devices (--devices), raise MFI_PROVER_CONCURRENCY if cores are free, or use --mock-proofs for fast iteration.`
      );
    },
  };
}
