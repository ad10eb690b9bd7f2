/**
 * `npm run bench -- cli` → build/bench/cli.json. How long `mfi` takes to start: `mfi --help` and one command's help
 * through the real binary (a fresh process each time), precompiled (build/cli/, rebuilt first) against the sources
 * through tsx (MFI_TSX=1), the path a clone without a build takes.
 */
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Bench, BenchResult } from "../core/index.ts";
import { median } from "../core/index.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const bin = join(root, "cli", "bin.mjs");

function startMs(args: string[], env: NodeJS.ProcessEnv, runs: number): number {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, [bin, ...args], { env, stdio: ["ignore", "ignore", "pipe"] });
    times.push(performance.now() - t0);
    if (r.status !== 0) throw new Error(`mfi ${args.join(" ")} exited ${r.status}: ${r.stderr}`);
  }
  return median(times);
}

const bench: Bench = {
  name: "cli",
  async run(log) {
    const built = spawnSync(process.execPath, [join(root, "scripts", "build-cli.mjs"), "--quiet"], {
      stdio: "inherit",
    });
    if (built.status !== 0) throw new Error("scripts/build-cli.mjs failed");
    const env = { ...process.env, MFI_TSX: undefined };
    const tsx = { ...process.env, MFI_TSX: "1" };
    const nodeOnly = median([0, 1, 2, 3, 4].map(() => timeNode()));
    const help = startMs(["--help"], env, 9);
    const helpTsx = startMs(["--help"], tsx, 3);
    const cmd = startMs(["validate", "--help"], env, 5);
    const cmdTsx = startMs(["validate", "--help"], tsx, 3);
    log(
      `mfi --help ${help.toFixed(0)} ms (sources through tsx ${helpTsx.toFixed(0)} ms, bare node ${nodeOnly.toFixed(0)} ms)`,
    );
    const results: BenchResult[] = [
      {
        id: "cli.startup_ms",
        value: help,
        unit: "ms",
        baseline: helpTsx,
        ratio: help / helpTsx,
        note: `median wall time of \`mfi --help\` (precompiled; goal ≤ 500 ms); baseline: the sources through tsx; bare \`node -e 0\` takes ${nodeOnly.toFixed(0)} ms here`,
      },
      {
        id: "cli.command_startup_ms",
        value: cmd,
        unit: "ms",
        baseline: cmdTsx,
        ratio: cmd / cmdTsx,
        note: "median wall time of `mfi validate --help`: one command and what it imports (the runtime, binaryen)",
      },
    ];
    return results;
  },
};

function timeNode(): number {
  const t0 = performance.now();
  spawnSync(process.execPath, ["-e", "0"]);
  return performance.now() - t0;
}

export default bench;
