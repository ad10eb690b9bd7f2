/**
 * The worker's batches (issue 26): claims of applets switched to BatchVault are queued, grouped per (applet, epoch)
 * into batches of up to N devices, proved as one and credited on L1 in one transaction. A batch moves
 * proving → proved → submitted → credited, or failed (its claims go back to the queue); every transition is one
 * transaction, so a restart finds each batch in exactly one state and resumes it (worker/batcher.ts).
 */
export type BatchState = "proving" | "proved" | "submitted" | "credited" | "failed";

export interface BatchRow {
  id: number;
  image_id: string;
  epoch: string;
  /** The batch circuit's size N (the vault's verifier key); `devices` ≤ N are credited. */
  n: number;
  devices: number;
  state: BatchState;
  prev_root: string | null;
  new_root: string | null;
  /** Proof bytes as BatchVault.submitBatch takes them (0x…). */
  proof: string | null;
  /** JSON [{deviceId, output, cumulative, firstEpoch, lastEpoch}] (decimal strings): the leaves after the batch. */
  credits: string | null;
  tx_hash: string | null;
  gas_used: number | null;
  error: string | null;
  prove_ms: number | null;
  created_at_ms: number;
  updated_at_ms: number;
}

/** A claim waiting for a batch (still 'pending' in worker_claims, deferred out of the single-claim path). */
export interface QueuedClaim {
  claimId: number;
  runId: number;
  imageId: string;
  deviceId: bigint;
  epoch: bigint;
  output: bigint;
  /** When it was queued (ms): the batch deadline counts from the oldest claim of an epoch. */
  queuedAtMs: number;
  /** Its batch, when one holds it. */
  batchId: number | null;
}

export interface BatchStore {
  /** Queue claims for batching (idempotent) and defer them out of the single-claim path, in one transaction. */
  queueClaims(claimIds: number[], now: number): Promise<void>;
  /** Queued claims still pending, in or out of a batch, oldest first. */
  queuedClaims(imageId?: string): Promise<QueuedClaim[]>;
  /** A new batch in 'proving' holding these queued claims (none may be in another open batch). Returns its id. */
  createBatch(a: { imageId: string; epoch: bigint; n: number; claimIds: number[]; now: number }): Promise<number>;
  markBatchProved(
    id: number,
    a: { prevRoot: bigint; newRoot: bigint; proof: string; credits: string; proveMs: number; now: number },
  ): Promise<void>;
  markBatchSubmitted(id: number, txHash: string, now: number): Promise<void>;
  /** The batch is credited on L1: its claims become 'paid' (credited; owners withdraw) with reward output × perUnit. */
  markBatchCredited(
    id: number,
    a: { txHash: string | null; gasUsed: bigint | null; rewardPerUnit: bigint; now: number },
  ): Promise<void>;
  /** The batch is given up (stale root, failed proof): its claims go back to the queue for a later batch. */
  failBatch(id: number, error: string, now: number): Promise<void>;
  /** A queued claim that can never be batched: 'failed' with the reason, out of the queue. */
  failQueuedClaim(claimId: number, error: string, now: number): Promise<void>;
  getBatch(id: number): Promise<BatchRow | undefined>;
  /** Batches in proving, proved or submitted, oldest first. */
  openBatches(): Promise<BatchRow[]>;
  /** Credited batches of an applet in crediting order (their credits rebuild the applet's earnings tree). */
  creditedBatches(imageId: string): Promise<BatchRow[]>;
  /** The claims a batch holds (a failed batch holds none: they went back to the queue). */
  claimsOf(batchId: number): Promise<number[]>;
  /** Most recent first, for status and the dashboard. */
  listBatches(limit?: number): Promise<BatchRow[]>;
}
