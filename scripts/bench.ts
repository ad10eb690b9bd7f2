/**
 * `npm run bench [-- <name>...]`: runs every layer's bench.ts (or only the named ones), prints a table and writes
 * build/bench/<name>.json. Each layer owns its numbers; this file only finds, runs and reports them.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync, existsSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { Bench, BenchResult } from "../core/index.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

// Build what the benches measure first (applets, the Wasm crypto, contracts, circuits; each cached), so a fresh clone
// never measures a stale or missing artefact, e.g. ingest on the JS fallback backend.
const built = spawnSync(process.execPath, ["--import", "./cli/register.mjs", join(root, "scripts", "build.ts")], {
  cwd: root,
  stdio: ["ignore", "inherit", "inherit"],
});
if (built.status !== 0) {
  process.stderr.write("bench: the build failed (see above); nothing was measured\n");
  process.exit(1);
}
const candidates = [
  "runtime",
  "device-sdk/crypto",
  "gateway",
  "gateway/mqtt",
  "gateway/hostile",
  "store/postgres",
  "circuits",
  "circuits/compile",
  "circuits/native",
  "circuits/batch",
  "contracts",
  "contracts/batch-bench.ts",
  "cli",
  "test",
].map((d) => (d.endsWith(".ts") ? join(root, d) : join(root, d, "bench.ts")));
const only = process.argv.slice(2).filter((a) => !a.startsWith("-"));
const out = join(root, "build", "bench");
mkdirSync(out, { recursive: true });

function fmt(x: number | undefined): string {
  if (x === undefined) return "";
  if (Math.abs(x) >= 1000) return Math.round(x).toLocaleString("en-US");
  return x.toPrecision(4);
}

let failed = false;
const rows: (BenchResult & { bench: string })[] = [];
for (const file of candidates) {
  if (!existsSync(file)) continue;
  const bench = (await import(pathToFileURL(file).href)).default as Bench;
  if (only.length && !only.includes(bench.name)) continue;
  process.stderr.write(`\n▶ bench ${bench.name} (${file.slice(root.length + 1)})\n`);
  try {
    const results = await bench.run((m) => process.stderr.write(`  ${m}\n`));
    writeFileSync(join(out, `${bench.name}.json`), JSON.stringify(results, null, 2) + "\n");
    rows.push(...results.map((r) => ({ ...r, bench: bench.name })));
  } catch (err) {
    failed = true;
    process.stderr.write(`  ✗ ${bench.name} failed: ${(err as Error).stack ?? err}\n`);
  }
}

const header = ["id", "value", "unit", "baseline", "ratio", "note"];
const table = rows.map((r) => [r.id, fmt(r.value), r.unit, fmt(r.baseline), fmt(r.ratio), r.note ?? ""]);
const widths = header.map((h, i) => Math.max(h.length, ...table.map((t) => t[i]!.length)));
const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join("  ");
console.log("\n" + line(header));
console.log(widths.map((w) => "-".repeat(w)).join("  "));
for (const t of table) console.log(line(t));
console.log(`\nresults written to ${out}/*.json`);
// Exit explicitly: provers, pools and chains some benches start must not keep the process alive.
process.exit(failed ? 1 : 0);
