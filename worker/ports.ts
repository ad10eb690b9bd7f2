/**
 * What the epoch worker needs from the other layers, as narrow ports: running an applet (runtime/), proving a claim
 * (circuits/) and paying it on L1 (contracts/). runtime-port.ts, prover-port.ts and chain-port.ts bind them to the
 * real layers; tests may bind fakes only for units of the worker itself (the end-to-end tests in test/ use the real
 * ones). The shapes the worker stores (AppletSpec, RunOutcome) are defined with its store, in store/.
 */
import type { EpochWindow } from "../device-sdk/index.ts";
import type { AppletSpec, ClaimCalldata, DeviceRecord, RunOutcome, StoredReading } from "../store/index.ts";

export type { AppletSpec, Reducer, RunOutcome } from "../store/index.ts";

export type RunPort = (args: {
  applet: AppletSpec;
  epoch: EpochWindow;
  deviceId: bigint;
  readings: StoredReading[];
  state: Uint8Array | undefined;
}) => Promise<RunOutcome>;

export interface ProveArgs {
  applet: AppletSpec;
  device: DeviceRecord;
  epoch: EpochWindow;
  /** The applet's claimed output; the prover refuses when the circuit computes another. */
  output: bigint;
  /** The reading just before the epoch (absent when the chain starts inside it). */
  before: StoredReading | undefined;
  inside: StoredReading[];
  /** Readings after the epoch, up to and including the first signed one. */
  after: StoredReading[];
  /** The journal digest of the run that made the claim: the receipt carries it, so it traces back to that run. */
  journalDigest: string;
  /**
   * Issue 18: the device's applet state before the run ({ key hex: value hex }, the run's stored state_before;
   * absent: none yet). A stateful applet's proof starts from it; a stateless applet's ignores it.
   */
  state?: Record<string, string>;
}

export interface ProvedClaim {
  /** Receipt JSON (bigints as decimal strings), as stored and served. */
  receipt: string;
  calldata: ClaimCalldata;
}

export type ProvePort = (args: ProveArgs) => Promise<ProvedClaim>;

export interface PaidResult {
  status: "paid" | "reverted" | "unknown";
  reward?: bigint;
  gasUsed?: bigint;
  error?: string;
}

export interface ChainPort {
  isClaimed(imageId: string, deviceId: bigint, epoch: bigint): Promise<boolean>;
  /** Send the claim transaction; resolves once it is in the mempool with its hash. */
  submit(calldata: ProvedClaim["calldata"]): Promise<{ txHash: string }>;
  /** Wait for the transaction's outcome. */
  waitPaid(txHash: string): Promise<PaidResult>;
  /**
   * Issue 18: where the device's next claim of a stateful applet must start on chain (PayoutVault.stateOf: the last
   * paid claim's stateOut, or the empty state) and that claim's epoch (0n: none). Absent: stateful claims are sent
   * without the order check.
   */
  stateOf?(imageId: string, deviceId: bigint): Promise<{ state: bigint; lastEpoch: bigint }>;
  /**
   * Issue 18: the device token a signing key belongs to and the key's validity on chain, [validFromMs, validUntilMs)
   * (validUntilMs 0n: open), from DeviceRegistry.claimInfo; undefined for a key the registry does not know. Absent:
   * every key is its own token and the vault decides validity when the claim is sent.
   */
  keyOf?(deviceId: bigint): Promise<{ tokenId: bigint; validFromMs: bigint; validUntilMs: bigint } | undefined>;
}
