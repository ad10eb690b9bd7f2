/**
 * Every error class of every layer is produced by some test: its name appears in a test file (the families' base
 * classes, which only others extend, are covered through them). docs/errors.md lists them.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = join(import.meta.dirname, "..");
const SKIP = new Set(["node_modules", "build", ".mfi", ".git", "assembly", "templates"]);

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    if (SKIP.has(f)) return [];
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : /\.tsx?$/.test(f) ? [p] : [];
  });
}

describe("error classes", () => {
  it("each one is named by a test, and listed in docs/errors.md", () => {
    const all = files(ROOT);
    const tests = all.filter((f) => /\.test\.tsx?$/.test(f) || relative(ROOT, f).startsWith("test/"));
    const source = all.filter((f) => !tests.includes(f));
    const classes = new Map<string, { file: string; base: string }>();
    for (const f of source) {
      for (const m of readFileSync(f, "utf8").matchAll(/export class (\w+) extends (\w+)/g)) {
        if (/Error$|Exceeded$/.test(m[1]!)) classes.set(m[1]!, { file: relative(ROOT, f), base: m[2]! });
      }
    }
    expect(classes.size).toBeGreaterThan(40);
    const bases = new Set([...classes.values()].map((c) => c.base));
    const testText = tests.map((f) => readFileSync(f, "utf8")).join("\n");
    const untested = [...classes.keys()].filter((c) => !bases.has(c) && !new RegExp(`\\b${c}\\b`).test(testText));
    expect(untested).toEqual([]);
    const doc = readFileSync(join(ROOT, "docs", "errors.md"), "utf8");
    expect([...classes.keys()].filter((c) => !doc.includes(`\`${c}\``))).toEqual([]);
  });
});
