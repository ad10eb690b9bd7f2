/**
 * The devnet's summary line every few seconds. One line at a time: the next is scheduled only after the last is
 * printed, so a stalled event loop or a hung chain call never piles up lines that then come out together with the same
 * time and counts out of order (setInterval with an async body did). Each line carries the time its counts were read,
 * the rate over the time that really passed, "late" when it came well after its slot, and says when the chain does not
 * answer instead of printing the owners' balances as 0.
 */
import { formatUnits } from "ethers";
import type { ClaimState } from "../../store/index.ts";

export interface SummarySources {
  /** Readings the simulated fleet had acknowledged (undefined: no fleet). */
  accepted(): number | undefined;
  claimCounts(): Promise<Record<ClaimState, number>>;
  runCounts(): Promise<{ runs: number }>;
  /** What the device owners hold in reward tokens (smallest unit); rejects or hangs when the chain is down. */
  ownersHold(): Promise<bigint>;
}

export interface SummaryOptions {
  everyMs?: number;
  /** A chain call slower than this counts as unreachable (default 2 s). */
  chainTimeoutMs?: number;
  print?: (line: string) => void;
  /** Called with the claim counts of each line (the backlog hint). */
  onCounts?: (claims: Record<ClaimState, number>, now: number) => void;
  now?: () => number;
}

const timeout = <T>(p: Promise<T>, ms: number) =>
  Promise.race([
    p,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms).unref()),
  ]);

export function startSummary(src: SummarySources, opts: SummaryOptions = {}): { stop(): void; tick(): Promise<void> } {
  const every = opts.everyMs ?? 5000;
  const print = opts.print ?? ((l: string) => console.log(l));
  const clock = opts.now ?? Date.now;
  let last = { t: clock(), accepted: src.accepted() ?? 0 };
  let due = last.t + every;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  const tick = async () => {
    const started = clock();
    const late = started - due;
    const [claims, runs] = await Promise.all([src.claimCounts(), src.runCounts()]);
    const accepted = src.accepted() ?? 0;
    const now = clock();
    const rate = now > last.t ? ((accepted - last.accepted) * 1000) / (now - last.t) : 0;
    last = { t: now, accepted };
    opts.onCounts?.(claims, now);
    let chain: string;
    try {
      chain = `owners hold ${formatUnits(await timeout(src.ownersHold(), opts.chainTimeoutMs ?? 2000), 18)} MFI`;
    } catch (err) {
      chain = `chain unreachable (${(err as Error).message}): owners' balances unknown`;
    }
    const lateNote = late > every ? ` · late ${(late / 1000).toFixed(0)} s (event loop or chain stalled)` : "";
    print(
      `[${new Date(now).toISOString().slice(11, 19)}] readings ${accepted} (${rate.toFixed(1)}/s) · runs ${runs.runs} · claims pending ${claims.pending} proved ${claims.proved} submitted ${claims.submitted} paid ${claims.paid} failed ${claims.failed} · ${chain}${lateNote}`,
    );
  };

  const schedule = () => {
    if (stopped) return;
    // The next slot after now: a stall skips the slots it missed rather than printing them all at once.
    const now = clock();
    while (due <= now) due += every;
    timer = setTimeout(async () => {
      try {
        await tick();
      } catch (err) {
        print(`summary unavailable: ${(err as Error).message}`);
      }
      schedule();
    }, due - now);
  };
  schedule();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
    tick,
  };
}
