/**
 * One plain line per worker stage, with times, for `mfi devnet` and `mfi dev`: a run (with the claims it made) →
 * proved (proving time) → submitted (tx) → paid (reward), or a retry / failure with its reason. Plain lines suit a
 * terminal and a log file alike; the devnet's 5 s summary line carries the totals.
 */
import { formatUnits } from "ethers";
import type { WorkerEvent } from "../../worker/index.ts";

export interface EventLineOptions {
  /** Also describe runs that made no claim and did not trap (default: only runs with claims or a trap). */
  allRuns?: boolean;
  /** Applet names by imageId (hex, with or without 0x). */
  names?: Map<string, string>;
}

const short = (s: string, n = 10) => (s.length > n ? `${s.slice(0, n)}…` : s);

/** The line for an event, or undefined when it is not worth a line. */
export function eventLine(e: WorkerEvent, o: EventLineOptions = {}): string | undefined {
  if (e.type === "run") {
    const name = o.names?.get(e.imageId.replace(/^0x/, "")) ?? short(e.imageId.replace(/^0x/, ""), 8);
    const where = `run ${e.runId}: ${name} on device ${short(e.deviceId.toString())}`;
    if (e.trap) return `  ⚠ ${where} trapped (${e.trap}), no claim`;
    // issue 18: a claim the vault can never pay (the key rotated during the epoch) is not proved: not a failure
    if (e.unclaimable) return `  · ${where}: claim ${e.unclaimable}`;
    if (e.stateNote) return `  ▶ ${where}: fuel ${e.fuelUsed}, ${e.claims} claim(s) to prove; state ${e.stateNote}`;
    if (e.claims === 0 && !o.allRuns) return undefined;
    return `  ▶ ${where}: fuel ${e.fuelUsed}, ${e.claims} claim(s) to prove`;
  }
  if (e.type === "chain-wait") {
    const name = o.names?.get(e.imageId.replace(/^0x/, "")) ?? short(e.imageId.replace(/^0x/, ""), 8);
    return `  … ${name}: epoch ${e.epoch >> 32n} waits for the chain (device ${short(e.deviceId.toString())}): ${e.reason}`;
  }
  if (e.type === "quarantined")
    return `  ✗ applet ${e.name || short(e.imageId.replace(/^0x/, ""), 8)} quarantined, not run again (the other applets go on): ${e.reason}`;
  const id = `claim ${e.claimId}`;
  switch (e.state) {
    case "proved":
      return `  ✓ ${id} proved${e.proveMs !== undefined ? ` in ${(e.proveMs / 1000).toFixed(1)} s` : ""}`;
    case "submitted":
      return `  ↑ ${id} submitted${e.txHash ? ` (tx ${short(e.txHash, 18)})` : ""}`;
    case "paid":
      if (e.reward === 0n) return `  ✓ ${id} proven on chain: nothing to pay (reward 0; the fact is recorded)`;
      return `  ✓ ${id} paid${e.reward !== undefined ? `: ${formatUnits(e.reward, 18)} MFI` : ""}${e.detail ? ` (${e.detail})` : ""}`;
    case "failed":
      return `  ✗ ${id === "claim -1" ? "worker" : id} failed: ${e.detail}`;
    default:
      return e.detail ? `  ↻ ${id} back to ${e.state}: ${e.detail}` : undefined;
  }
}
