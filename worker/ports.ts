/**
 * What the epoch worker needs from the other layers, as narrow ports: running an applet (runtime/), proving a claim
 * (circuits/) and paying it on L1 (contracts/). wire.ts binds them to the real layers; tests may bind fakes only
 * for units of the worker itself (the end-to-end tests in test/ use the real ones).
 */
import type { EpochWindow } from "../device-sdk/index.ts";
import type { DeviceRecord, StoredReading } from "../store/types.ts";

export type Reducer = "sum" | "count_above" | "max";

export interface AppletSpec {
  imageId: string;
  name: string;
  wasm: Uint8Array;
  reducer: Reducer;
  param?: bigint;
  rewardPerUnit: bigint;
  /**
   * The applet's epoch schedule on L1 (AppletRegistry): the worker closes exactly these epochs, since the vault pays
   * no other window. Absent: epochs of the worker's `epochMs` aligned to multiples of it.
   */
  schedule?: { lengthMs: number; genesisMs: number };
}

export interface RunOutcome {
  inputDigest: string;
  journal: Uint8Array;
  journalDigest: string;
  fuelUsed: bigint;
  stateRoot: string;
  /** State after the run (unchanged input state when trapped). */
  state: Uint8Array;
  trap?: { kind: string; message: string };
  claims: { deviceId: bigint; output: bigint }[];
}

export type RunPort = (args: { applet: AppletSpec; epoch: EpochWindow; deviceId: bigint; readings: StoredReading[]; state: Uint8Array | undefined }) => Promise<RunOutcome>;

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
}

export interface ProvedClaim {
  /** Receipt JSON (bigints as decimal strings), as stored and served. */
  receipt: string;
  calldata: { imageId: string; deviceId: bigint; epoch: bigint; output: bigint; proof: string };
}

export type ProvePort = (args: ProveArgs) => Promise<ProvedClaim>;

export interface PaidResult {
  status: "paid" | "reverted" | "unknown";
  reward?: bigint;
  gasUsed?: bigint;
  error?: string;
  /** The revert means the nullifier was already spent (paid earlier, maybe by a run before a crash). */
  alreadyClaimed?: boolean;
}

export interface ChainPort {
  isClaimed(imageId: string, deviceId: bigint, epoch: bigint): Promise<boolean>;
  /** Send the claim transaction; resolves once it is in the mempool with its hash. */
  submit(calldata: ProvedClaim["calldata"]): Promise<{ txHash: string }>;
  /** Wait for the transaction's outcome. */
  waitPaid(txHash: string): Promise<PaidResult>;
}
