/**
 * Spent access-request nonces, so a captured request cannot be replayed, also not after a gateway restart. Kept in
 * the store's SQLite database (migration gateway/002-market-nonces, id kept as first applied); a nonce is spent only when a request is
 * served. Rows whose request expired are pruned: an expired request is refused before its nonce is looked at.
 */
import type Database from "better-sqlite3";
import type { NonceStore } from "../types.ts";
import type { Migration } from "./migrations.ts";

export const marketNonceMigration: Migration = {
  id: "gateway/002-market-nonces",
  sql: `
    CREATE TABLE market_nonces (
      buyer TEXT NOT NULL,
      nonce TEXT NOT NULL,
      expiry INTEGER NOT NULL,
      used_at INTEGER NOT NULL,
      PRIMARY KEY (buyer, nonce)
    ) WITHOUT ROWID;
    CREATE INDEX market_nonces_by_expiry ON market_nonces (expiry);
  `,
};

export function sqliteNonceStore(db: Database.Database): NonceStore {
  const insert = db.prepare("INSERT OR IGNORE INTO market_nonces (buyer, nonce, expiry, used_at) VALUES (?, ?, ?, ?)");
  const prune = db.prepare("DELETE FROM market_nonces WHERE expiry < ?");
  let lastPrune = 0;
  return {
    async consume(buyer, nonce, expirySeconds, nowMs) {
      if (nowMs - lastPrune > 60_000) {
        lastPrune = nowMs;
        prune.run(Math.floor(nowMs / 1000));
      }
      const expiry = expirySeconds > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(expirySeconds);
      return insert.run(buyer.toLowerCase(), nonce.toString(), expiry, nowMs).changes === 1;
    },
  };
}
