/** stageProgress without a terminal: one plain line per finished stage (no carriage returns), steps folded in. */
import { describe, expect, it } from "vitest";
import { stageProgress } from "./progress.ts";

function sink() {
  let text = "";
  return {
    stream: { write: (s: string) => ((text += s), true), isTTY: false } as unknown as NodeJS.WriteStream,
    text: () => text,
  };
}

describe("stageProgress (plain output)", () => {
  it("prints each stage once it ends, ignores steps inside a stage, and returns every stage's seconds", () => {
    const out = sink();
    const p = stageProgress({ stages: ["witness", "prove", "verify"], label: "proving", stream: out.stream });
    p.stage("queued");
    p.stage("witness");
    expect(out.text()).toBe("");
    p.stage("prove");
    p.stage("Multiexp A: 10/20");
    p.stage("verify");
    const took = p.done();
    const lines = out.text().split("\n").filter(Boolean);
    expect(lines.map((l) => l.match(/^ {2}proving: (\w+) +\d+\.\d+ s$/)?.[1])).toEqual(["witness", "prove", "verify"]);
    expect(out.text()).not.toMatch(/\r|queued|Multiexp/);
    expect(Object.keys(took)).toEqual(["witness", "prove", "verify"]);
    expect(Object.values(took).every((s) => s >= 0)).toBe(true);
  });

  it("reports the stage that failed", () => {
    const out = sink();
    const p = stageProgress({ stages: ["witness", "prove"], label: "proving", stream: out.stream });
    p.stage("witness");
    p.stage("prove");
    p.fail();
    expect(out.text().split("\n").filter(Boolean).at(-1)).toMatch(/^ {2}proving: prove +failed after \d+\.\d+ s$/);
  });
});
