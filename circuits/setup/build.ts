/**
 * Compiles circuits with circom2 (circom as Wasm, from npm) and runs the dev setup, caching each circuit under
 * build/circuits/<name>/ keyed by a content hash of everything that determines its keys.
 */
import { createHash } from "node:crypto";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync, readdirSync, renameSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { specOf, type CircuitSpec } from "../catalog.ts";
import { FixedBasePool } from "./fixed-base.ts";
import { devSetup } from "./dev-setup.ts";
import { DEV_SEED } from "./seed.ts";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const BUILD_DIR = join(ROOT, "build", "circuits");
const require = createRequire(import.meta.url);

export interface CircuitArtifacts {
  name: string;
  dir: string;
  main: string;
  r1cs: string;
  wasm: string;
  zkey: string;
  vkey: string;
  solidity: string;
  manifest: string;
}

/** circom resolves includes next to the main file first, so a main file must not share a source file's name. */
const mainBase = (name: string) => (existsSync(join(ROOT, "circuits", `${name}.circom`)) ? `${name}_main` : name);

export function artifactsOf(name: string, buildDir = BUILD_DIR): CircuitArtifacts {
  const dir = join(buildDir, name);
  const base = mainBase(name);
  return {
    name,
    dir,
    main: join(dir, `${base}.circom`),
    r1cs: join(dir, `${base}.r1cs`),
    wasm: join(dir, `${base}_js`, `${base}.wasm`),
    zkey: join(dir, `${name}.zkey`),
    vkey: join(dir, "verification_key.json"),
    solidity: join(dir, `Groth16Verifier_${name}.sol`),
    manifest: join(dir, "manifest.json"),
  };
}

export interface Manifest {
  name: string;
  key: string;
  compileKey: string;
  constraints: number;
  domainPower: number;
  nPublic: number;
  compileSeconds: number;
  setupSeconds: number;
  insecureDevSetup: true;
}

const version = (pkg: string) =>
  (JSON.parse(readFileSync(join(ROOT, "node_modules", pkg, "package.json"), "utf8")) as { version: string }).version;

/** What changes the R1CS and witness generator: circuit sources, the main file, circom2 and circomlib. */
export function compileKey(spec: Pick<CircuitSpec, "main">): string {
  const h = createHash("sha256");
  const circuitsDir = join(ROOT, "circuits");
  for (const f of readdirSync(circuitsDir)
    .filter((f) => f.endsWith(".circom"))
    .sort())
    h.update(f).update(readFileSync(join(circuitsDir, f)));
  for (const pkg of ["circom2", "circomlib"]) h.update(pkg).update(version(pkg));
  return h.update(spec.main).digest("hex");
}

/** Everything that changes the keys: the compile key, the setup code, snarkjs and the seed. */
export function cacheKey(spec: Pick<CircuitSpec, "main">, seed = DEV_SEED): string {
  const h = createHash("sha256").update(compileKey(spec));
  const setupDir = join(ROOT, "circuits", "setup");
  for (const f of ["zkey-writer.ts", "field.ts", "r1cs.ts", "fixed-base-worker.mjs", "seed.ts", "dev-setup.ts"])
    h.update(f).update(readFileSync(join(setupDir, f)));
  return h.update("snarkjs").update(version("snarkjs")).update(seed).digest("hex");
}

export function readManifest(name: string, buildDir = BUILD_DIR): Manifest | undefined {
  const a = artifactsOf(name, buildDir);
  if (!existsSync(a.manifest)) return undefined;
  return JSON.parse(readFileSync(a.manifest, "utf8")) as Manifest;
}

export function isBuilt(name: string, buildDir = BUILD_DIR): boolean {
  const a = artifactsOf(name, buildDir);
  const m = readManifest(name, buildDir);
  return (
    !!m && m.key === cacheKey(specOf(name)) && [a.r1cs, a.wasm, a.zkey, a.vkey, a.solidity].every((f) => existsSync(f))
  );
}

export type Log = (msg: string) => void;

/**
 * Puts a keyed build (an applet's or a batch circuit's) in place: its manifest written into the private directory it
 * was built in, then that directory renamed to the cache's (replacing an older build), so no reader sees half a key.
 */
export function installBuild(tmp: string, dir: string, manifest: object): void {
  writeFileSync(join(tmp, "manifest.json"), JSON.stringify(manifest, null, 2) + "\n");
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
}

function compile(spec: CircuitSpec, a: CircuitArtifacts): Promise<void> {
  // Start clean: a stale .circom left here would be found by circom's include lookup.
  rmSync(a.dir, { recursive: true, force: true });
  mkdirSync(a.dir, { recursive: true });
  const mainFile = a.main;
  writeFileSync(mainFile, spec.main);
  // circom2 runs under WASI with the working directory and its parents preopened: pass paths relative to ROOT.
  const rel = (p: string) => relative(ROOT, p);
  const args = [
    require.resolve("circom2/cli.js"),
    rel(mainFile),
    "--r1cs",
    "--wasm",
    "--O2",
    "-l",
    "node_modules",
    "-l",
    "circuits",
    "-o",
    rel(a.dir),
  ];
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    p.stdout.on("data", (d) => (out += d));
    p.stderr.on("data", (d) => (out += d));
    p.on("error", reject);
    p.on("exit", (code) =>
      code === 0 &&
      !/error/i.test(
        out
          .replace(/\x1b\[[0-9;]*m/g, "")
          .split("Written successfully")[0]!
          .replace(/everything went okay/i, ""),
      )
        ? resolve()
        : reject(new Error(`circom2 failed for ${spec.name} (exit ${code}):\n${out}`)),
    );
  });
}

/**
 * One build at a time per checkout (several engineers, CI steps or tests may start one): a lock file holding the
 * builder's pid; a lock whose process is gone is taken over.
 */
async function withLock<T>(log: Log, fn: () => Promise<T>): Promise<T> {
  mkdirSync(BUILD_DIR, { recursive: true });
  const lock = join(BUILD_DIR, ".lock");
  let waited = false;
  for (;;) {
    try {
      writeFileSync(lock, String(process.pid), { flag: "wx" });
      break;
    } catch {
      const pid = Number(readFileSync(lock, "utf8") || "0");
      let alive = false;
      try {
        alive = pid > 0 && pid !== process.pid && (process.kill(pid, 0), true);
      } catch {}
      if (!alive) {
        rmSync(lock, { force: true });
        continue;
      }
      if (!waited) log(`… waiting for the circuits build of process ${pid} to finish`);
      waited = true;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { force: true });
  }
}

/** Builds (or finds cached) every named circuit; returns their manifests. */
export async function buildCircuits(names: string[], opts: { log?: Log; force?: boolean } = {}): Promise<Manifest[]> {
  const log = opts.log ?? ((m) => process.stderr.write(m + "\n"));
  return withLock(log, () => buildLocked(names, opts.force ?? false, log));
}

async function buildLocked(names: string[], force: boolean, log: Log): Promise<Manifest[]> {
  const specs = names.map(specOf);
  const todo = specs.filter((s) => force || !isBuilt(s.name));
  for (const s of specs)
    if (!todo.includes(s)) log(`✓ ${s.name}: cache hit (${relative(ROOT, artifactsOf(s.name).dir)})`);
  if (todo.length)
    log(`⚠ building ${todo.length} circuit(s) with the INSECURE dev trusted setup (public seed; see docs/circuits.md)`);
  // Compile two at a time (circom2 is single-threaded); set up in order as compiles finish.
  const compiled = new Map<string, Promise<number>>();
  const slots = [Promise.resolve(), Promise.resolve()];
  todo.forEach((s, i) => {
    const slot = i % 2;
    const p = slots[slot]!.then(async () => {
      const a = artifactsOf(s.name);
      if (existsSync(a.r1cs) && existsSync(a.wasm) && readManifest(s.name)?.compileKey === compileKey(s))
        return readManifest(s.name)!.compileSeconds;
      const t0 = performance.now();
      log(`… ${s.name}: compiling with circom2`);
      await compile(s, artifactsOf(s.name));
      const secs = (performance.now() - t0) / 1000;
      log(`  ${s.name}: compiled in ${secs.toFixed(1)} s`);
      return secs;
    });
    slots[slot] = p.then(
      () => undefined,
      () => undefined,
    );
    compiled.set(s.name, p);
  });
  const pool = todo.length ? new FixedBasePool(2) : undefined;
  const out: Manifest[] = [];
  try {
    for (const s of todo) {
      const compileSeconds = await compiled.get(s.name)!;
      const a = artifactsOf(s.name);
      const t0 = performance.now();
      let lastPct = -1;
      // Written before setup so a failed setup does not force a recompile.
      writeFileSync(
        a.manifest,
        JSON.stringify({ name: s.name, key: "", compileKey: compileKey(s), compileSeconds }) + "\n",
      );
      const info = await devSetup({
        name: s.name,
        files: a,
        pool: pool!,
        onProgress: (stage, done, total) => {
          if (process.env.MFI_SETUP_TRACE)
            log(`    [${((performance.now() - t0) / 1000).toFixed(2)} s] ${stage} ${done}/${total}`);
          const pct = Math.floor((100 * done) / total / 20) * 20;
          if (stage === "points" && pct !== lastPct) {
            lastPct = pct;
            log(`  ${s.name}: setup points ${pct}% (${done.toLocaleString("en-US")}/${total.toLocaleString("en-US")})`);
          } else if (stage !== "points") log(`  ${s.name}: setup ${stage}`);
        },
      });
      const m: Manifest = {
        name: s.name,
        key: cacheKey(s),
        compileKey: compileKey(s),
        constraints: info.nConstraints,
        domainPower: info.domainPower,
        nPublic: info.nPublic,
        compileSeconds,
        setupSeconds: (performance.now() - t0) / 1000,
        insecureDevSetup: true,
      };
      writeFileSync(a.manifest, JSON.stringify(m, null, 2) + "\n");
      log(
        `✓ ${s.name}: ${m.constraints.toLocaleString("en-US")} constraints, 2^${m.domainPower} domain, setup ${m.setupSeconds.toFixed(1)} s`,
      );
    }
  } finally {
    await pool?.close();
  }
  for (const s of specs) out.push(readManifest(s.name)!);
  return out;
}
