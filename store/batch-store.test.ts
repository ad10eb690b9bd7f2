/** The batch store suite (./batch-store-suite.ts) against both implementations: a SQLite file and a real Postgres server. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { BatchClaimTakenError, openStoreAsync, StoreError } from "./index.ts";
import { startTestPostgres, type TestPostgres } from "./postgres/testing.ts";
import { batchStoreSuite } from "./batch-store-suite.ts";

const dir = mkdtempSync(join(tmpdir(), "mfi-batch-suite-"));
let n = 0;
let pg: TestPostgres | undefined;

beforeAll(async () => {
  pg = await startTestPostgres();
}, 120_000);
afterAll(async () => {
  await pg?.stop();
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

batchStoreSuite({
  name: "SQLite",
  fresh: async () => join(dir, `b${++n}.sqlite`),
  open: (location) => openStoreAsync(location, { headCache: false }),
});

batchStoreSuite({
  name: "Postgres",
  fresh: () => pg!.createDatabase(),
  open: (location) => openStoreAsync(location),
});

it("BatchClaimTakenError (the suite's refusal of a claim another open batch holds) is a StoreError from the store's index", () => {
  const e = new BatchClaimTakenError("claim 1 is in another open batch");
  expect(e).toBeInstanceOf(StoreError);
  expect([e.name, e.shortMessage]).toEqual(["BatchClaimTakenError", "claim 1 is in another open batch"]);
});
