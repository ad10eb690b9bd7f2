/** The store suite (./store-suite.ts) against both implementations: a SQLite file, and a real Postgres server. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openStoreAsync, StoreUnavailableError } from "./index.ts";
import { startTestPostgres, type TestPostgres } from "./postgres/testing.ts";
import { device, storeSuite } from "./store-suite.ts";

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

describe("openStoreAsync", () => {
  it("takes a SQLite path, with or without sqlite:, and a postgres:// or postgresql:// URL", async () => {
    const file = join(dir, "prefixed.sqlite");
    const a = await openStoreAsync(`sqlite:${file}`);
    await a.insertDevice(device(1n));
    await a.close();
    const b = await openStoreAsync(file);
    expect(await b.deviceCount()).toBe(1);
    await b.close();
    const c = await openStoreAsync((await pg!.createDatabase()).replace(/^postgres:/, "postgresql:"));
    expect(await c.ping()).toBe(true);
    await c.close();
  });

  it("opening a database nothing answers for is a StoreUnavailableError (the gateway's 503), not a driver error", async () => {
    const s = createServer();
    await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
    const port = (s.address() as { port: number }).port;
    await new Promise((r) => s.close(r));
    const err = await openStoreAsync(`postgres://postgres:x@127.0.0.1:${port}/none`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreUnavailableError);
    expect((err as StoreUnavailableError).shortMessage).toBe("the database is unavailable");
    expect((err as StoreUnavailableError).details).toMatch(/ECONNREFUSED/);
  });
});
