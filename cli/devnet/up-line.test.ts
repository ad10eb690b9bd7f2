import { describe, expect, it } from "vitest";
import { upLine } from "./up-line.ts";

describe("upLine", () => {
  it("reports the total, what the build took and the start", () => {
    expect(upLine({ startMs: 5_100, buildMs: 200_000 })).toBe(
      "machinefi devnet is up (205.1 s: build 200.0 s, start 5.1 s)",
    );
  });
  it("says that a mock-proofs build had no trusted setup", () => {
    expect(upLine({ startMs: 5_100, buildMs: 3_000, mockProofs: true })).toBe(
      "machinefi devnet is up (8.1 s: build 3.0 s without trusted setup (mock proofs), start 5.1 s)",
    );
  });
  it("says when the build was skipped", () => {
    expect(upLine({ startMs: 5_100, buildMs: undefined })).toBe("machinefi devnet is up (5.1 s; build skipped)");
  });
});
