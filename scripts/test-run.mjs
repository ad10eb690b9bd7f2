#!/usr/bin/env node
/**
 * `npm test`'s last step: `vitest run`, then, if and only if the run failed because a test file's process died under
 * it (vitest reports "Worker exited unexpectedly" and leaves that file's tests pending, with no failed test), names the
 * file loudly and runs it once more on its own. A native crash of a whole test process (seen once in CI,
 * file unknown: vitest prints only the summary) would otherwise throw away a run whose every finished test passed,
 * and vitest has no retry for a dead process (its `retry` option re-runs failed tests inside a live one). A test that
 * fails, or a file that crashes again, still fails the run. Arguments are passed to vitest.
 *
 * Written by hand: vitest's JSON reporter has what is needed (pending tests of a dead file) but no option acts on it.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const vitest = join(dirname(createRequire(import.meta.url).resolve("vitest/package.json")), "vitest.mjs");
const report = join(root, "build", "test-results.json");
mkdirSync(dirname(report), { recursive: true });
rmSync(report, { force: true });

const run = (args) =>
  spawnSync(process.execPath, [vitest, "run", ...args], { cwd: root, stdio: "inherit" }).status ?? 1;

const args = process.argv.slice(2);
const code = run(["--reporter=default", "--reporter=json", `--outputFile.json=${report}`, ...args]);
if (code === 0) process.exit(0);
if (!existsSync(report)) process.exit(code);

/** Files whose process died: tests left pending, or none reported at all (vitest refuses a file with no tests). */
const results = JSON.parse(readFileSync(report, "utf8"));
const failed = results.numFailedTests + results.numFailedTestSuites;
const crashed = results.testResults
  .filter((f) => f.assertionResults.length === 0 || f.assertionResults.some((a) => a.status === "pending"))
  .map((f) => relative(root, f.name));
if (failed > 0 || crashed.length === 0 || crashed.length > 2) process.exit(code);

console.error(
  `\n⚠ every finished test passed, but the process running ${crashed.join(", ")} died under it (vitest: "Worker ` +
    `exited unexpectedly"). Running ${crashed.length === 1 ? "that file" : "those files"} once more, alone; ` +
    `a second crash or any failure fails the run.\n`,
);
process.exit(run(crashed));
