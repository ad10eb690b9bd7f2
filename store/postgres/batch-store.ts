/**
 * The worker's batches on Postgres (BatchStore, ../batch-types.ts): the same two tables and transitions as
 * ../sqlite/batch-store.ts, one transaction per method. A claim is in one open batch at a time even with several
 * processes: `createBatch` takes each claim with one conditional UPDATE, and a second transaction racing for the same
 * claim waits on its row lock, then finds it held by a batch that is not failed or credited and takes nothing.
 */
import type pg from "pg";
import type { BatchRow, BatchStore, QueuedClaim } from "../batch-types.ts";
import { BatchClaimTakenError } from "../errors.ts";
import type { PgMigration } from "./migrations.ts";
import { storeErrorOf } from "./errors.ts";

/** Far enough that the single-claim path's dueClaims never picks a queued claim up again (as on SQLite). */
const NEVER = 8_000_000_000_000_000;

/** Issue 26: the batch tables, a step of its own after the worker's (ids as SQLite's). */
export const pgBatchMigration: PgMigration = {
  id: "worker/batches-001",
  sql: `
    CREATE TABLE worker_batches (
      id bigserial PRIMARY KEY,
      image_id text NOT NULL,
      epoch text NOT NULL,
      n int NOT NULL,
      devices int NOT NULL,
      state text NOT NULL CHECK (state IN ('proving','proved','submitted','credited','failed')),
      prev_root text,
      new_root text,
      proof text,
      credits text,
      tx_hash text,
      gas_used bigint,
      error text,
      prove_ms bigint,
      created_at_ms bigint NOT NULL,
      updated_at_ms bigint NOT NULL
    );
    CREATE INDEX worker_batches_state ON worker_batches (state, id);
    CREATE INDEX worker_batches_credited ON worker_batches (image_id, updated_at_ms, id) WHERE state = 'credited';
    CREATE TABLE worker_batch_claims (
      claim_id bigint PRIMARY KEY REFERENCES worker_claims(id),
      batch_id bigint REFERENCES worker_batches(id),
      queued_at_ms bigint NOT NULL
    );
    CREATE INDEX worker_batch_claims_batch ON worker_batch_claims (batch_id);
  `,
};

interface QueuedRow {
  claim_id: number;
  run_id: number;
  image_id: string;
  device_id: string;
  epoch: string;
  output: string;
  queued_at_ms: number;
  batch_id: number | null;
}

export class PgBatchStore implements BatchStore {
  constructor(private readonly pool: pg.Pool) {}

  private async q<R extends pg.QueryResultRow>(text: string, values?: unknown[]) {
    return this.pool.query<R>(text, values).catch((e: unknown) => {
      throw storeErrorOf(e);
    });
  }

  /** `f` in one transaction on one connection; rolled back when it throws. */
  private async tx<T>(f: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    const c = await this.pool.connect().catch((e: unknown) => {
      throw storeErrorOf(e);
    });
    try {
      await c.query("BEGIN");
      const out = await f(c);
      await c.query("COMMIT");
      return out;
    } catch (e) {
      await c.query("ROLLBACK").catch(() => {});
      throw storeErrorOf(e);
    } finally {
      c.release();
    }
  }

  async queueClaims(claimIds: number[], now: number): Promise<void> {
    if (claimIds.length === 0) return;
    await this.tx(async (c) => {
      await c.query(
        `INSERT INTO worker_batch_claims (claim_id, batch_id, queued_at_ms)
         SELECT unnest($1::bigint[]), NULL, $2 ON CONFLICT (claim_id) DO NOTHING`,
        [claimIds, now],
      );
      await c.query(
        `UPDATE worker_claims SET next_attempt_at_ms = $1, error = 'queued for a batch'
         WHERE id = ANY($2::bigint[]) AND state = 'pending'`,
        [NEVER, claimIds],
      );
    });
  }

  async queuedClaims(imageId?: string): Promise<QueuedClaim[]> {
    const r = await this.q<QueuedRow>(
      `SELECT bc.claim_id, c.run_id, c.image_id, c.device_id, c.epoch, c.output, bc.queued_at_ms, bc.batch_id
       FROM worker_batch_claims bc JOIN worker_claims c ON c.id = bc.claim_id
       WHERE c.state = 'pending' AND ($1::text IS NULL OR c.image_id = $1) ORDER BY bc.queued_at_ms, bc.claim_id`,
      [imageId ?? null],
    );
    return r.rows.map((row) => ({
      claimId: row.claim_id,
      runId: row.run_id,
      imageId: row.image_id,
      deviceId: BigInt(row.device_id),
      epoch: BigInt(row.epoch),
      output: BigInt(row.output),
      queuedAtMs: row.queued_at_ms,
      batchId: row.batch_id,
    }));
  }

  async createBatch(a: {
    imageId: string;
    epoch: bigint;
    n: number;
    claimIds: number[];
    now: number;
  }): Promise<number> {
    return this.tx(async (c) => {
      const id = (
        await c.query<{ id: number }>(
          `INSERT INTO worker_batches (image_id, epoch, n, devices, state, created_at_ms, updated_at_ms)
           VALUES ($1, $2, $3, $4, 'proving', $5, $5) RETURNING id`,
          [a.imageId, a.epoch.toString(), a.n, a.claimIds.length, a.now],
        )
      ).rows[0]!.id;
      for (const claim of a.claimIds) {
        const took = await c.query(
          `UPDATE worker_batch_claims SET batch_id = $1 WHERE claim_id = $2 AND (batch_id IS NULL OR batch_id IN
             (SELECT id FROM worker_batches WHERE state IN ('failed','credited')))`,
          [id, claim],
        );
        if (took.rowCount !== 1)
          throw new BatchClaimTakenError(`claim ${claim} is not queued for batching or is in another open batch`, {
            details: "a claim is in one open batch at a time; nothing of this batch was stored",
          });
      }
      return id;
    });
  }

  async markBatchProved(
    id: number,
    a: { prevRoot: bigint; newRoot: bigint; proof: string; credits: string; proveMs: number; now: number },
  ): Promise<void> {
    await this.q(
      `UPDATE worker_batches SET state = 'proved', prev_root = $1, new_root = $2, proof = $3, credits = $4, prove_ms = $5,
       error = NULL, updated_at_ms = $6 WHERE id = $7`,
      [a.prevRoot.toString(), a.newRoot.toString(), a.proof, a.credits, a.proveMs, a.now, id],
    );
  }

  async markBatchSubmitted(id: number, txHash: string, now: number): Promise<void> {
    await this.q("UPDATE worker_batches SET state = 'submitted', tx_hash = $1, updated_at_ms = $2 WHERE id = $3", [
      txHash,
      now,
      id,
    ]);
  }

  async markBatchCredited(
    id: number,
    a: { txHash: string | null; gasUsed: bigint | null; rewardPerUnit: bigint; now: number },
  ): Promise<void> {
    await this.tx(async (c) => {
      const tx = (
        await c.query<{ tx_hash: string | null }>(
          `UPDATE worker_batches SET state = 'credited', tx_hash = coalesce($1, tx_hash), gas_used = $2, error = NULL,
           updated_at_ms = $3 WHERE id = $4 RETURNING tx_hash`,
          [a.txHash, a.gasUsed === null ? null : a.gasUsed.toString(), a.now, id],
        )
      ).rows[0]?.tx_hash;
      // The reward in numeric: output × perUnit is exact for uint256, as the single-claim path stores it.
      await c.query(
        `UPDATE worker_claims c SET state = 'paid', reward = c.output::numeric * $1::numeric, tx_hash = $2, error = $3,
         next_attempt_at_ms = 0, updated_at_ms = $4 FROM worker_batch_claims bc WHERE bc.claim_id = c.id AND bc.batch_id = $5`,
        [
          a.rewardPerUnit.toString(),
          tx ?? null,
          `credited by batch #${id} (the owner withdraws from BatchVault)`,
          a.now,
          id,
        ],
      );
    });
  }

  async failBatch(id: number, error: string, now: number): Promise<void> {
    await this.tx(async (c) => {
      await c.query("UPDATE worker_batches SET state = 'failed', error = $1, updated_at_ms = $2 WHERE id = $3", [
        error,
        now,
        id,
      ]);
      await c.query("UPDATE worker_batch_claims SET batch_id = NULL WHERE batch_id = $1", [id]);
    });
  }

  async failQueuedClaim(claimId: number, error: string, now: number): Promise<void> {
    await this.tx(async (c) => {
      await c.query("UPDATE worker_claims SET state = 'failed', error = $1, updated_at_ms = $2 WHERE id = $3", [
        error,
        now,
        claimId,
      ]);
      await c.query("DELETE FROM worker_batch_claims WHERE claim_id = $1", [claimId]);
    });
  }

  async getBatch(id: number): Promise<BatchRow | undefined> {
    return (await this.q<BatchRow>("SELECT * FROM worker_batches WHERE id = $1", [id])).rows[0];
  }

  async openBatches(): Promise<BatchRow[]> {
    return (
      await this.q<BatchRow>("SELECT * FROM worker_batches WHERE state IN ('proving','proved','submitted') ORDER BY id")
    ).rows;
  }

  async creditedBatches(imageId: string): Promise<BatchRow[]> {
    return (
      await this.q<BatchRow>(
        "SELECT * FROM worker_batches WHERE image_id = $1 AND state = 'credited' ORDER BY updated_at_ms, id",
        [imageId],
      )
    ).rows;
  }

  async claimsOf(batchId: number): Promise<number[]> {
    return (
      await this.q<{ claim_id: number }>(
        "SELECT claim_id FROM worker_batch_claims WHERE batch_id = $1 ORDER BY claim_id",
        [batchId],
      )
    ).rows.map((r) => r.claim_id);
  }

  async listBatches(limit = 50): Promise<BatchRow[]> {
    return (await this.q<BatchRow>("SELECT * FROM worker_batches ORDER BY id DESC LIMIT $1", [limit])).rows;
  }
}
