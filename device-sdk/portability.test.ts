/**
 * The SDK core must run on Node, Deno, Bun, browsers and small boards: nothing reachable from index.ts may import a
 * Node built-in. Node-only helpers live in node.ts, outside that graph.
 */
import { readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { dirname, join, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

function importsOf(file: string): string[] {
  const src = readFileSync(file, "utf8");
  // Static imports and re-exports, and import("…") with a literal: a dynamic import of a built-in breaks a bundle too.
  const stat = [...src.matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+["']([^"']+)["']/g)];
  const dynamic = [...src.matchAll(/\bimport\(\s*["']([^"']+)["']\s*\)/g)];
  return [...stat, ...dynamic].map((m) => m[1]!);
}

describe("device-sdk core portability", () => {
  it("imports no Node built-in from index.ts's module graph", () => {
    const seen = new Set<string>();
    const offenders: string[] = [];
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      for (const spec of importsOf(file)) {
        if (builtins.has(spec)) offenders.push(`${file} imports ${spec}`);
        else if (spec.startsWith(".")) visit(resolve(dirname(file), spec));
      }
    };
    visit(join(import.meta.dirname, "index.ts"));
    expect(seen.size).toBeGreaterThan(8);
    expect([...seen].some((f) => f.endsWith("node.ts"))).toBe(false);
    expect(offenders).toEqual([]);
    // Nor Node's globals (a type annotation or cast is fine: it is erased).
    const globals = [...seen].flatMap((f) =>
      readFileSync(f, "utf8")
        .split("\n")
        .filter((l) => /\b(Buffer|process|__dirname|require)\s*[.(]/.test(l) && !/^\s*(\/\/|\*)/.test(l))
        .map((l) => `${f}: ${l.trim()}`),
    );
    expect(globals).toEqual([]);
    // And the Node entry does use Node (so the check above can see a built-in when there is one).
    expect(importsOf(join(import.meta.dirname, "node.ts")).some((s) => builtins.has(s))).toBe(true);
  });
});
