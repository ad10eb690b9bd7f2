/** The store suite (./store-suite.ts) against both implementations: a SQLite file, and a real Postgres server. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll } from "vitest";
import { openStoreAsync } from "./index.ts";
import { startTestPostgres, type TestPostgres } from "./postgres/testing.ts";
import { storeSuite } from "./store-suite.ts";

const dir = mkdtempSync(join(tmpdir(), "mfi-store-suite-"));
let n = 0;
let pg: TestPostgres | undefined;

beforeAll(async () => {
  pg = await startTestPostgres();
}, 120_000);
afterAll(async () => {
  await pg?.stop();
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

storeSuite({
  name: "SQLite",
  fresh: async () => join(dir, `s${++n}.sqlite`),
  // Two handles on one file are two connections, as two processes would have: no head cache between them.
  open: (location) => openStoreAsync(location, { headCache: false }),
});

storeSuite({
  name: "Postgres",
  fresh: () => pg!.createDatabase(),
  open: (location) => openStoreAsync(location),
});
