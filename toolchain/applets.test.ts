/** applet.json validation: the epoch schedule's length (it is fixed on L1 at registration, so bad values stop here). */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadAppletManifest } from "./applets.ts";
import { ManifestError } from "./errors.ts";

function manifestDir(extra: Record<string, unknown>): string {
  const dir = join(mkdtempSync(join(tmpdir(), "mfi-manifest-")), "probe");
  mkdirSync(dir);
  writeFileSync(
    join(dir, "applet.json"),
    JSON.stringify({ name: "probe", reducer: "sum", rewardPerUnit: "1", description: "d", ...extra }),
  );
  return dir;
}

describe("applet.json epochLengthMs", () => {
  it("is optional (the one-hour default applies at registration) and kept when given", () => {
    expect(loadAppletManifest(manifestDir({})).epochLengthMs).toBeUndefined();
    expect(loadAppletManifest(manifestDir({ epochLengthMs: 60_000 })).epochLengthMs).toBe(60_000);
  });

  it("refuses a length the registry would refuse: 0, 2^32 or more, fractional, a string", () => {
    for (const bad of [0, 2 ** 32, 1.5, "60000"]) {
      expect(() => loadAppletManifest(manifestDir({ epochLengthMs: bad })), String(bad)).toThrow(ManifestError);
    }
    expect(() => loadAppletManifest(manifestDir({ epochLengthMs: 0 }))).toThrow(/epochLengthMs/);
  });
});
