/**
 * The epoch worker's persistence: its applets, runs, applet state and claims, as the `WorkerStore` interface and the
 * shapes it stores. Claims move pending → proved → submitted → paid | failed; every transition is one transaction,
 * so a SIGKILL leaves each claim in exactly one state. SQLite implements it in ./sqlite/worker-store.ts.
 */
import type { StoredReading } from "./types.ts";
import type { BatchRow } from "./batch-types.ts";

export type Reducer = "sum" | "count_above" | "max";

/** An applet as the worker runs it (and as it is stored). */
export interface AppletSpec {
  imageId: string;
  name: string;
  wasm: Uint8Array;
  /** Unused since applets are proven by their own compiled circuits (issue 18); kept so stored specs still read. */
  reducer?: Reducer;
  param?: bigint;
  rewardPerUnit: bigint;
  /**
   * The applet's epoch schedule on L1 (AppletRegistry): the worker closes exactly these epochs, since the vault pays
   * no other window. Absent: epochs of the worker's `epochMs` aligned to multiples of it.
   */
  schedule?: { lengthMs: number; genesisMs: number };
}

/** What one run of an applet produced. */
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

/** The arguments of PayoutVault.claim, as stored once a claim is proved. */
export interface ClaimCalldata {
  imageId: string;
  deviceId: bigint;
  epoch: bigint;
  output: bigint;
  proof: string;
  /** Issue 18: a stateful applet's state commitments (sent through PayoutVault.claimStateful, in epoch order). */
  stateIn?: bigint;
  stateOut?: bigint;
}
export type ClaimState = "pending" | "proved" | "submitted" | "paid" | "failed";

/** The states a retry to each state may come from (WorkerStore.reschedule); none for paid and failed. */
export const RESCHEDULE_FROM: Record<ClaimState, readonly ClaimState[]> = {
  pending: ["pending"],
  proved: ["proved", "submitted"],
  submitted: ["submitted"],
  paid: [],
  failed: [],
};

export interface ClaimRow {
  id: number;
  run_id: number;
  image_id: string;
  device_id: string;
  epoch: string;
  output: string;
  state: ClaimState;
  attempts: number;
  next_attempt_at_ms: number;
  receipt: string | null;
  calldata: string | null;
  tx_hash: string | null;
  reward: string | null;
  gas_used: number | null;
  error: string | null;
  prove_ms: number | null;
  created_at_ms: number;
  /** Issue 18: the device token whose state the claim moves (recordRun's stateOwner); null: stored before. */
  token_id: string | null;
}

export interface RunRow {
  id: number;
  image_id: string;
  device_id: string;
  epoch: string;
  from_seq: number;
  to_seq: number;
  reading_count: number;
  state_before: Buffer | null;
  input_digest: string;
  journal: Buffer;
  journal_digest: string;
  fuel_used: number;
  state_root: string;
  trap: string | null;
  created_at_ms: number;
  /** Issue 18: why the run's claim was not kept (not claimable), or how its state was re-synced; null: nothing. */
  note: string | null;
}

/** What the dashboard and metrics read of the worker: counts and recent rows, never a write. */
export interface WorkerStatus {
  getRun(id: number): Promise<RunRow | undefined>;
  listRuns(limit?: number): Promise<RunRow[]>;
  listClaims(limit?: number): Promise<ClaimRow[]>;
  claimCounts(): Promise<Record<ClaimState, number>>;
  runCounts(): Promise<{ runs: number; trapped: number }>;
  /** Trapped runs by trap kind. */
  trapCounts(): Promise<{ kind: string; n: number }[]>;
  /** Totals over every run and claim: fuel used, proving time, proofs timed, gas and reward of paid claims. */
  totals(): Promise<WorkerTotals>;
  /** Paid claims per owner (the owner their device had when registered), largest reward first, and the owners' number. */
  payouts(limit: number): Promise<{ owners: number; rows: { owner: string; claims: number; reward: bigint }[] }>;
  /** Paid claims and reward in all, and per minute of payment (minute = floor(ms / 60000)) from `sinceMinute` on. */
  paidActivity(sinceMinute: number): Promise<PaidActivity>;
  /** When the longest-waiting pending claim was made (ms), or null when none is pending. */
  oldestPending(): Promise<number | null>;
  /** Proving time per circuit (the receipt's seal.circuit): cumulative counts per bound `le` (seconds), count, sum. */
  proveHistogram(): Promise<ProveHistogram[]>;
  /** Every applet the worker knows, with its name and run totals. */
  applets(): Promise<AppletSummary[]>;
  /** Issue 26: the latest batches, newest first (none unless the worker credits applets in batches). */
  listBatches(limit?: number): Promise<BatchRow[]>;
}

export interface WorkerTotals {
  fuelUsed: number;
  proveMs: number;
  proofs: number;
  gasUsed: number;
  paidClaims: number;
  /** In the reward token's smallest unit. */
  rewardPaid: bigint;
}

export interface PaidActivity {
  claims: number;
  reward: bigint;
  minutes: { minute: number; claims: number; reward: bigint }[];
}

export interface ProveHistogram {
  circuit: string;
  count: number;
  sumMs: number;
  buckets: { le: number; n: number }[];
}

export interface AppletSummary {
  imageId: string;
  name: string;
  runs: number;
  trapped: number;
  fuelUsed: number;
  /** Issue 22: why the worker stopped running this applet (its module failed to load), or null while it runs. */
  quarantined: string | null;
}

/** An applet the worker knows: its spec, the start of its next epoch, and why it is quarantined (null: it runs). */
export interface WorkerApplet {
  spec: AppletSpec;
  cursorMs: number;
  quarantined: string | null;
  /**
   * Issue 22: a newer version replaced it (`mfi dev`) for the epochs starting at or after this time (ms): those are
   * not run; earlier ones are, and their claims settle. Null: it runs.
   */
  retiredAtMs: number | null;
}

/** The worker's persistence. Every method is one transaction. */
export interface WorkerStore extends WorkerStatus {
  /** Add the applet, or update its name and manifest; adding a retired applet again un-retires it. */
  upsertApplet(spec: AppletSpec, cursorMs: number, now: number): Promise<void>;
  /**
   * Issue 22: stop running the applet for epochs starting at or after `fromMs` (a newer version runs those); earlier
   * epochs are still run, and every claim goes through proving and payment. Returns false when it already was retired.
   */
  retireApplet(imageId: string, fromMs: number): Promise<boolean>;
  listApplets(): Promise<WorkerApplet[]>;
  /**
   * Issue 22: stop running an applet whose module fails to load, with the reason (kept across restarts and
   * re-registration of the same imageId: the same bytes fail the same way). Returns false when it already was.
   */
  quarantineApplet(imageId: string, reason: string, now: number): Promise<boolean>;
  getApplet(imageId: string): Promise<AppletSpec | undefined>;
  /** Move the applet's next epoch start forward (never back). */
  setCursor(imageId: string, cursorMs: number): Promise<void>;
  hasRun(imageId: string, deviceId: bigint, epoch: bigint): Promise<boolean>;
  getState(imageId: string, deviceId: bigint): Promise<Uint8Array | undefined>;
  /** Store the run, the applet's new state (unless it trapped) and its claims, atomically. Returns the run id. */
  recordRun(a: {
    applet: AppletSpec;
    deviceId: bigint;
    epoch: bigint;
    readings: StoredReading[];
    stateBefore: Uint8Array | undefined;
    outcome: RunOutcome;
    claims: { deviceId: bigint; output: bigint }[];
    now: number;
    /**
     * Whose state row the run's new state replaces (`getState`'s deviceId): the device token (issue 18, state
     * follows the token across key rotations). Default: `deviceId`.
     */
    stateOwner?: bigint;
    /** False: the state row is left as it was (a run whose claim can never be paid). Default true. */
    advanceState?: boolean;
    /** Issue 18: why the run's claim was not kept, or how its state was re-synced (RunRow.note). */
    note?: string;
  }): Promise<number>;
  /** Claims in `state` whose next attempt is due, longest-waiting first. */
  dueClaims(state: ClaimState, now: number, limit: number): Promise<ClaimRow[]>;
  defer(id: number, untilMs: number, note: string): Promise<void>;
  markProved(id: number, receipt: string, calldata: string, proveMs: number, now: number): Promise<void>;
  calldataOf(id: number): Promise<ClaimCalldata>;
  markSubmitted(id: number, txHash: string, now: number): Promise<void>;
  markPaid(id: number, r: { reward?: bigint; gasUsed?: bigint; note?: string }, now: number): Promise<void>;
  /**
   * Send the claim back to `state` for another attempt at `atMs`, only if it is still where such a retry comes from
   * (RESCHEDULE_FROM: a prove failure from 'pending', a submit failure from 'proved' or 'submitted') and `attempts`
   * does not go back. Returns false, changing nothing, when the claim moved on: a late failure of a duplicate prover
   * never sets a proved, submitted or paid claim back to pending.
   */
  reschedule(id: number, state: ClaimState, attempts: number, atMs: number, error: string): Promise<boolean>;
  /** Fail the claim with the reason; a paid claim stays paid (returns false, changing nothing). */
  markFailed(id: number, error: string, attempts: number, now: number): Promise<boolean>;
  /** The claim's state and attempts now, or undefined when there is no such claim (the prove queue's re-check). */
  claimState(id: number): Promise<{ state: ClaimState; attempts: number } | undefined>;
  /**
   * The epochs (packed, as stored) of the device's claims for the applet not settled yet (pending, proved,
   * submitted): a stateful claim waits for the earlier ones (PayoutVault.claimStateful pays a device's epochs in order).
   */
  unsettledEpochs(imageId: string, deviceId: string): Promise<bigint[]>;
  /**
   * Issue 18: the latest epoch (packed) of the device token's paid claims for the applet (under any of its keys), or
   * undefined when none is paid. A stateful payment moves the chain's stateOf.lastEpoch to its epoch, so a node
   * answering an earlier one is behind.
   */
  lastPaidEpoch(imageId: string, tokenId: bigint): Promise<bigint | undefined>;
  /** Issue 18: unsettledEpochs of the device token, under any of its keys (its claims' token_id). */
  tokenUnsettledEpochs(imageId: string, tokenId: bigint): Promise<bigint[]>;
  /** Issue 18: the device token's claim of the applet for this epoch (packed), under whichever key made it. */
  tokenClaimAt(imageId: string, tokenId: bigint, epoch: bigint): Promise<ClaimRow | undefined>;
  /** Issue 18: the device's claim of the applet for this epoch (packed), if the worker made one. */
  claimAt(imageId: string, deviceId: string, epoch: bigint): Promise<ClaimRow | undefined>;
}
