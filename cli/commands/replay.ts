/** `mfi replay <run>`: re-execute a stored run and check journal digest, fuel and state root. */
import type { Command } from "commander";
import { join } from "node:path";
import { existsSync } from "node:fs";
import { isPostgresUrl, openStoreAsync } from "../../store/index.ts";
import { replayRun } from "../../worker/index.ts";
import { UsageError } from "../errors.ts";
import { lastDevnetState } from "../devnet-state.ts";

/**
 * The database a command reads: --db (a SQLite file or a postgres:// URL), or <--state>/machinefi.sqlite, or by default
 * the state of the devnet started last (cli/devnet-state.ts; said on stderr). Bad usage throws UsageError (exit 2).
 */
export function dbPathFrom(opts: { db?: string; state?: string }): string {
  const { db: dbFile, state } = opts;
  let path = dbFile ?? (state ? join(state, "machinefi.sqlite") : undefined);
  if (!path) {
    const last = lastDevnetState();
    if (last) {
      path = join(last.dir, "machinefi.sqlite");
      console.error(`(the ${last.running ? "running" : "last"} devnet's state: ${last.dir})`);
    }
  }
  const problem = !path
    ? "no devnet has run here yet: start one (`npm start`), or say which database: --state <dir> or --db <file>"
    : !isPostgresUrl(path) && !existsSync(path)
      ? `no database at ${path}: start the devnet with --state <dir> first`
      : undefined;
  if (problem) throw new UsageError(problem);
  return path!;
}

export function register(program: Command): void {
  program
    .command("replay")
    .description("re-execute a stored applet run from the stored readings and check it matches, byte for byte")
    .argument("<run>", "run id (see `mfi status`)")
    .option("--state <dir>", "devnet state directory (default: the devnet started last, running or not)")
    .option("--db <file|url>", "SQLite database file or postgres:// URL")
    .option("--json", "print the report as JSON")
    .addHelpText(
      "after",
      "\nExample:\n  $ mfi replay 12 --state .mfi/devnet\n\nExit codes: 0 match, 1 mismatch (loud), 2 bad usage or unknown run.",
    )
    .action(async (run: string, opts: { state?: string; db?: string; json?: boolean }) => {
      const runId = Number(run);
      if (!Number.isInteger(runId) || runId < 1)
        throw new UsageError(`run must be a positive integer id, got ${JSON.stringify(run)}`);
      const path = dbPathFrom(opts);
      const store = await openStoreAsync(path);
      try {
        const report = await replayRun({ runId, worker: store.worker, store });
        if (opts.json) console.log(JSON.stringify(report, null, 2));
        else {
          console.log(
            `run ${report.runId}: applet ${report.imageId.slice(0, 16)}…, device ${report.deviceId.slice(0, 16)}…, ${report.readings} readings`,
          );
          for (const k of ["journalDigest", "fuelUsed", "stateRoot", "trap"] as const) {
            const ok = report.stored[k] === report.replayed[k];
            console.log(
              `  ${ok ? "✓" : "✗"} ${k.padEnd(13)} ${String(report.replayed[k])}${ok ? "" : `   (stored: ${report.stored[k]})`}`,
            );
          }
        }
        if (!report.match) {
          console.error(
            `\n✗ REPLAY MISMATCH for run ${runId}: ${report.mismatches.join("; ")}\n  The stored run does not follow from the stored readings: do not trust its claims.`,
          );
          process.exitCode = 1;
        } else if (!opts.json) console.log(`\n✓ run ${runId} replays exactly`);
      } catch (err) {
        console.error((err as Error).message);
        process.exitCode = (err as Error).name === "ReplayError" ? 2 : 1;
      } finally {
        await store.close();
      }
    });
}
