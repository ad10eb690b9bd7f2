/** The worker's batches on SQLite (BatchStore, ../batch-types.ts): two tables beside worker_claims; one transaction per method. */
import type Database from "better-sqlite3";
import type { BatchRow, BatchStore, QueuedClaim } from "../batch-types.ts";
import type { Migration } from "./migrations.ts";
import { BatchClaimTakenError } from "../errors.ts";

/** Far enough that the single-claim path's dueClaims never picks a queued claim up again. */
const NEVER = 8_000_000_000_000_000;

export const batchMigration: Migration = {
  id: "worker/batches-001",
  sql: `
CREATE TABLE IF NOT EXISTS worker_batches (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     image_id TEXT NOT NULL,
     epoch TEXT NOT NULL,
     n INTEGER NOT NULL,
     devices INTEGER NOT NULL,
     state TEXT NOT NULL CHECK (state IN ('proving','proved','submitted','credited','failed')),
     prev_root TEXT,
     new_root TEXT,
     proof TEXT,
     credits TEXT,
     tx_hash TEXT,
     gas_used INTEGER,
     error TEXT,
     prove_ms INTEGER,
     created_at_ms INTEGER NOT NULL,
     updated_at_ms INTEGER NOT NULL
   );
CREATE INDEX IF NOT EXISTS worker_batches_state ON worker_batches (state, id);
CREATE TABLE IF NOT EXISTS worker_batch_claims (
     claim_id INTEGER PRIMARY KEY REFERENCES worker_claims(id),
     batch_id INTEGER REFERENCES worker_batches(id),
     queued_at_ms INTEGER NOT NULL
   );
CREATE INDEX IF NOT EXISTS worker_batch_claims_batch ON worker_batch_claims (batch_id);
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

export class SqliteBatchStore implements BatchStore {
  constructor(private readonly db: Database.Database) {}

  async queueClaims(claimIds: number[], now: number): Promise<void> {
    const ins = this.db.prepare(
      "INSERT OR IGNORE INTO worker_batch_claims (claim_id, batch_id, queued_at_ms) VALUES (?, NULL, ?)",
    );
    const defer = this.db.prepare(
      "UPDATE worker_claims SET next_attempt_at_ms = ?, error = 'queued for a batch' WHERE id = ? AND state = 'pending'",
    );
    this.db.transaction(() => {
      for (const id of claimIds) {
        ins.run(id, now);
        defer.run(NEVER, id);
      }
    })();
  }

  async queuedClaims(imageId?: string): Promise<QueuedClaim[]> {
    const rows = this.db
      .prepare(
        `SELECT bc.claim_id, c.run_id, c.image_id, c.device_id, c.epoch, c.output, bc.queued_at_ms, bc.batch_id
         FROM worker_batch_claims bc JOIN worker_claims c ON c.id = bc.claim_id
         WHERE c.state = 'pending' AND (? IS NULL OR c.image_id = ?) ORDER BY bc.queued_at_ms, bc.claim_id`,
      )
      .all(imageId ?? null, imageId ?? null) as QueuedRow[];
    return rows.map((r) => ({
      claimId: r.claim_id,
      runId: r.run_id,
      imageId: r.image_id,
      deviceId: BigInt(r.device_id),
      epoch: BigInt(r.epoch),
      output: BigInt(r.output),
      queuedAtMs: r.queued_at_ms,
      batchId: r.batch_id,
    }));
  }

  async createBatch(a: {
    imageId: string;
    epoch: bigint;
    n: number;
    claimIds: number[];
    now: number;
  }): Promise<number> {
    return this.db.transaction(() => {
      const id = Number(
        this.db
          .prepare(
            `INSERT INTO worker_batches (image_id, epoch, n, devices, state, created_at_ms, updated_at_ms) VALUES (?, ?, ?, ?, 'proving', ?, ?)`,
          )
          .run(a.imageId, a.epoch.toString(), a.n, a.claimIds.length, a.now, a.now).lastInsertRowid,
      );
      const take = this.db.prepare(
        "UPDATE worker_batch_claims SET batch_id = ? WHERE claim_id = ? AND (batch_id IS NULL OR batch_id IN (SELECT id FROM worker_batches WHERE state IN ('failed','credited')))",
      );
      for (const c of a.claimIds)
        if (take.run(id, c).changes !== 1)
          throw new BatchClaimTakenError(`claim ${c} is not queued for batching or is in another open batch`, {
            details: "a claim is in one open batch at a time; nothing of this batch was stored",
          });
      return id;
    })();
  }

  async markBatchProved(
    id: number,
    a: { prevRoot: bigint; newRoot: bigint; proof: string; credits: string; proveMs: number; now: number },
  ): Promise<void> {
    this.db
      .prepare(
        "UPDATE worker_batches SET state = 'proved', prev_root = ?, new_root = ?, proof = ?, credits = ?, prove_ms = ?, error = NULL, updated_at_ms = ? WHERE id = ?",
      )
      .run(a.prevRoot.toString(), a.newRoot.toString(), a.proof, a.credits, a.proveMs, a.now, id);
  }

  async markBatchSubmitted(id: number, txHash: string, now: number): Promise<void> {
    this.db
      .prepare("UPDATE worker_batches SET state = 'submitted', tx_hash = ?, updated_at_ms = ? WHERE id = ?")
      .run(txHash, now, id);
  }

  async markBatchCredited(
    id: number,
    a: { txHash: string | null; gasUsed: bigint | null; rewardPerUnit: bigint; now: number },
  ): Promise<void> {
    this.db.transaction(() => {
      this.db
        .prepare(
          "UPDATE worker_batches SET state = 'credited', tx_hash = coalesce(?, tx_hash), gas_used = ?, error = NULL, updated_at_ms = ? WHERE id = ?",
        )
        .run(a.txHash, a.gasUsed === null ? null : Number(a.gasUsed), a.now, id);
      const claims = this.db
        .prepare(
          "SELECT c.id, c.output FROM worker_batch_claims bc JOIN worker_claims c ON c.id = bc.claim_id WHERE bc.batch_id = ?",
        )
        .all(id) as { id: number; output: string }[];
      const tx = (this.db.prepare("SELECT tx_hash FROM worker_batches WHERE id = ?").get(id) as { tx_hash: string })
        .tx_hash;
      const paid = this.db.prepare(
        "UPDATE worker_claims SET state = 'paid', reward = ?, tx_hash = ?, error = ?, next_attempt_at_ms = 0, updated_at_ms = ? WHERE id = ?",
      );
      for (const c of claims)
        paid.run(
          (BigInt(c.output) * a.rewardPerUnit).toString(),
          tx,
          `credited by batch #${id} (the owner withdraws from BatchVault)`,
          a.now,
          c.id,
        );
    })();
  }

  async failBatch(id: number, error: string, now: number): Promise<void> {
    this.db.transaction(() => {
      this.db
        .prepare("UPDATE worker_batches SET state = 'failed', error = ?, updated_at_ms = ? WHERE id = ?")
        .run(error, now, id);
      this.db.prepare("UPDATE worker_batch_claims SET batch_id = NULL WHERE batch_id = ?").run(id);
    })();
  }

  async failQueuedClaim(claimId: number, error: string, now: number): Promise<void> {
    this.db.transaction(() => {
      this.db
        .prepare("UPDATE worker_claims SET state = 'failed', error = ?, updated_at_ms = ? WHERE id = ?")
        .run(error, now, claimId);
      this.db.prepare("DELETE FROM worker_batch_claims WHERE claim_id = ?").run(claimId);
    })();
  }

  async getBatch(id: number): Promise<BatchRow | undefined> {
    return this.db.prepare("SELECT * FROM worker_batches WHERE id = ?").get(id) as BatchRow | undefined;
  }

  async openBatches(): Promise<BatchRow[]> {
    return this.db
      .prepare("SELECT * FROM worker_batches WHERE state IN ('proving','proved','submitted') ORDER BY id")
      .all() as BatchRow[];
  }

  async creditedBatches(imageId: string): Promise<BatchRow[]> {
    return this.db
      .prepare("SELECT * FROM worker_batches WHERE image_id = ? AND state = 'credited' ORDER BY updated_at_ms, id")
      .all(imageId) as BatchRow[];
  }

  async claimsOf(batchId: number): Promise<number[]> {
    return (
      this.db.prepare("SELECT claim_id FROM worker_batch_claims WHERE batch_id = ? ORDER BY claim_id").all(batchId) as {
        claim_id: number;
      }[]
    ).map((r) => r.claim_id);
  }

  async listBatches(limit = 50): Promise<BatchRow[]> {
    return this.db.prepare("SELECT * FROM worker_batches ORDER BY id DESC LIMIT ?").all(limit) as BatchRow[];
  }
}
