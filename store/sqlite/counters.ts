/**
 * Running counts of stored readings, kept by a trigger in the same transaction as each insert, so readers (the
 * dashboard, polled every few seconds) never count(*) or scan `readings`: at a million readings those scans blocked
 * the event loop for 274–365 ms per request. One row per minute of receipt, and one total row.
 */
import type { Migration } from "./migrations.ts";

export const readingCountsMigration: Migration = {
  id: "gateway/003-reading-counts",
  sql: `
    CREATE TABLE reading_minutes (minute INTEGER PRIMARY KEY, n INTEGER NOT NULL);
    CREATE TABLE reading_total (id INTEGER PRIMARY KEY CHECK (id = 0), n INTEGER NOT NULL);
    INSERT INTO reading_minutes (minute, n) SELECT received_at / 60000, count(*) FROM readings GROUP BY received_at / 60000;
    INSERT INTO reading_total (id, n) SELECT 0, count(*) FROM readings;
    CREATE TRIGGER readings_counted AFTER INSERT ON readings BEGIN
      INSERT INTO reading_minutes (minute, n) VALUES (NEW.received_at / 60000, 1) ON CONFLICT (minute) DO UPDATE SET n = n + 1;
      UPDATE reading_total SET n = n + 1 WHERE id = 0;
    END;
  `,
};
