/**
 * Compiles generated circom text with circom2 (cached under build/compile/<sha256 of the text>/) and computes
 * witnesses with circom's own witness calculator: the real toolchain, used by the compiler's tests and measurements.
 */
import { createHash, randomBytes } from "node:crypto";
import { spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { basename, join, relative } from "node:path";
import { ROOT } from "../setup/build.ts";

const require = createRequire(import.meta.url);

export interface CircomBuild {
  dir: string;
  wasm: string;
  r1cs: string;
  /** Constraints after circom --O2 (non-linear + linear), as circom reports them. */
  constraints: number;
}

export async function buildCircom(text: string): Promise<CircomBuild> {
  const hash = createHash("sha256").update(text).digest("hex").slice(0, 24);
  const dir = join(ROOT, "build", "compile", hash);
  const info = join(dir, "info.json");
  const out = { dir, wasm: join(dir, "applet_js", "applet.wasm"), r1cs: join(dir, "applet.r1cs") };
  if (existsSync(info)) return { ...out, ...(JSON.parse(readFileSync(info, "utf8")) as { constraints: number }) };
  // Test files and processes compile the same text at once: each compiles in its own directory and renames it into
  // place; the first rename wins and the others use its result (circom2 failed when two wrote one directory).
  const tmp = `${dir}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
  mkdirSync(tmp, { recursive: true });
  try {
    writeFileSync(join(tmp, "applet.circom"), text);
    const constraints = constraintsOf(await runCircom(join(tmp, "applet.circom"), tmp));
    writeFileSync(join(tmp, "info.json"), JSON.stringify({ constraints }));
    try {
      renameSync(tmp, dir);
    } catch (e) {
      if (existsSync(info)) return { ...out, constraints }; // another compile of the same text won the race
      // a directory left half-written by an interrupted compile: replace it
      rmSync(dir, { recursive: true, force: true });
      renameSync(tmp, dir);
    }
    return { ...out, constraints };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * How much circom simplifies: "O2" (full linear simplification: fewest constraints, the default) or "O1" (signal to
 * signal and to constant only: about twice the constraints, far less compiler memory; circom2 is Wasm32, 4 GB at
 * most, and O2 runs out of it past ~1 M constraints).
 */
export type Simplification = "O1" | "O2";

/** circom2 on one main file (r1cs and witness Wasm into outDir); resolves with circom's log, rejects on failure. */
export function runCircom(file: string, outDir: string, simplification: Simplification = "O2"): Promise<string> {
  // circom2 runs under WASI with the working directory and its parents preopened: pass paths relative to ROOT.
  const rel = (p: string) => relative(ROOT, p);
  const args = [
    require.resolve("circom2/cli.js"),
    rel(file),
    "--wasm",
    `--${simplification}`,
    "-l",
    "node_modules",
    "-l",
    "circuits",
    "-o",
    rel(outDir),
    "--r1cs",
  ];
  const base = basename(file, ".circom");
  return new Promise<string>((resolve, reject) => {
    const p = spawn(process.execPath, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let s = "";
    p.stdout.on("data", (d) => (s += d));
    p.stderr.on("data", (d) => (s += d));
    p.on("error", reject);
    p.on("exit", (code) =>
      code === 0 && existsSync(join(outDir, `${base}_js`, `${base}.wasm`))
        ? resolve(s)
        : // circom's own error is at the end of its log (an out-of-memory line among others): its head and its tail
          reject(
            new Error(
              `circom2 failed (exit ${code}):\n${s.length > 4000 ? `${s.slice(0, 1000)}\n…\n${s.slice(-3000)}` : s}`,
            ),
          ),
    );
  });
}

/** Constraints after circom --O2 (non-linear + linear) from circom's log. */
export function constraintsOf(log: string): number {
  const plain = log.replace(/\x1b\[[0-9;]*m/g, "");
  const num = (re: RegExp) => Number(re.exec(plain)?.[1] ?? "0");
  return num(/non-linear constraints: (\d+)/) + num(/(?<!non-)linear constraints: (\d+)/);
}

type Calculator = { calculateWitness(input: Record<string, unknown>, sanity: boolean): Promise<bigint[]> };
const calculators = new Map<string, Promise<Calculator>>();

/** The witness for `input` (throws when the constraints cannot be met: no witness). */
export async function computeWitness(build: CircomBuild, input: Record<string, unknown>): Promise<bigint[]> {
  let calc = calculators.get(build.wasm);
  if (!calc) {
    // circom writes CommonJS with a .js name; this package is ESM, so load it as .cjs.
    const cjs = join(build.dir, "applet_js", "witness_calculator.cjs");
    if (!existsSync(cjs)) copyFileSync(join(build.dir, "applet_js", "witness_calculator.js"), cjs);
    const builder = require(cjs) as (code: Buffer) => Promise<Calculator>;
    calculators.set(build.wasm, (calc = builder(readFileSync(build.wasm))));
  }
  try {
    return await (await calc).calculateWitness(input, true);
  } catch (e) {
    // A failed assertion leaves circom's Wasm instance mid-computation: the next witness needs a fresh one.
    calculators.delete(build.wasm);
    throw e;
  }
}
