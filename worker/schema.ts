/**
 * Row shapes of the worker's own tables (created by ./migrations.ts). Claims move pending → proved → submitted →
 * paid | failed; every transition is one transaction so a SIGKILL leaves each claim in exactly one state.
 */
export type ClaimState = "pending" | "proved" | "submitted" | "paid" | "failed";

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
}
