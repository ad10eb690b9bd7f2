import { describe, expect, it } from "vitest";
import { RoleNeedsPostgresError, serveRole } from "./index.ts";

describe("serveRole", () => {
  it("refuses a SQLite database with RoleNeedsPostgresError before opening anything", async () => {
    for (const role of ["scheduler", "prover", "submitter"] as const) {
      const err = await serveRole({ role, dbUrl: "/nonexistent/dir/gw.sqlite" })
        .then(() => undefined)
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RoleNeedsPostgresError);
      expect((err as Error).message).toMatch(new RegExp(`mfi worker ${role} needs a postgres://`));
    }
  });
});
