/**
 * Per-applet circuits and their DEV keys: compiles an applet's Wasm for K (compileApplet), runs circom2 on the main
 * and the dev setup (circuits/setup), and caches the result under build/applet-circuits/<key>/, where the key hashes
 * everything that determines the keys: the generated main text (which pins the imageId and K), circuits/*.circom,
 * the circom2, circomlib and snarkjs versions, the setup code and the seed (setup/build.ts cacheKey). A second call
 * for the same applet and K is a cache hit; a changed applet is a new directory, never a stale key.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, cacheKey, installBuild } from "../setup/build.ts";
import { devSetup } from "../setup/dev-setup.ts";
import { FixedBasePool } from "../setup/fixed-base.ts";
import { constraintsOf, runCircom } from "./circom-run.ts";
import { compileApplet, type CompileAppletOptions } from "./index.ts";

export const APPLET_CIRCUITS_DIR = join(ROOT, "build", "applet-circuits");

export interface AppletCircuit {
  /** applet_<imageId prefix>_k<K>: the circuit's name in logs, the beacon label and the Solidity contract name. */
  name: string;
  /** Hex without 0x, as CompiledApplet's. */
  imageId: string;
  k: number;
  hasParam: boolean;
  /** The state keys the circuit commits to (hex, commitment order); empty or absent: a stateless applet. */
  stateKeys?: string[];
  /** The cache key (sha256 hex); the directory is named by its first 24 characters. */
  key: string;
  dir: string;
  r1cs: string;
  wasm: string;
  zkey: string;
  vkey: string;
  solidity: string;
  /** Constraints after circom --O2 and the setup's 2^domainPower. */
  constraints: number;
  domainPower: number;
  nPublic: number;
  /** Seconds spent when the circuit was first built (applet compiler, circom2, dev setup). */
  compileAppletSeconds: number;
  circomSeconds: number;
  setupSeconds: number;
  /** This call found the keys in the cache. */
  cacheHit: boolean;
}

type Manifest = Omit<AppletCircuit, "dir" | "r1cs" | "wasm" | "zkey" | "vkey" | "solidity" | "cacheHit"> & {
  insecureDevSetup: true;
};

export interface SetupAppletOptions extends CompileAppletOptions {
  log?: (msg: string) => void;
  /** Default build/applet-circuits. */
  buildDir?: string;
}

function files(dir: string, name: string) {
  return {
    dir,
    r1cs: join(dir, "applet.r1cs"),
    wasm: join(dir, "applet_js", "applet.wasm"),
    zkey: join(dir, `${name}.zkey`),
    vkey: join(dir, "verification_key.json"),
    solidity: join(dir, `Groth16Verifier_${name}.sol`),
  };
}

/** The applet's circuit and dev keys for K, built on first use (progress through `log`) and cached. */
export async function setupAppletCircuit(opts: SetupAppletOptions): Promise<AppletCircuit> {
  const log = opts.log ?? ((m: string) => process.stderr.write(m + "\n"));
  const t0 = performance.now();
  const compiled = compileApplet(opts);
  const compileAppletSeconds = (performance.now() - t0) / 1000;
  const name = `applet_${compiled.imageId.slice(0, 16)}_k${opts.k}`;
  const key = cacheKey({ main: compiled.main });
  const dir = join(opts.buildDir ?? APPLET_CIRCUITS_DIR, key.slice(0, 24));
  const manifestFile = join(dir, "manifest.json");
  const f = files(dir, name);
  if (existsSync(manifestFile)) {
    const m = JSON.parse(readFileSync(manifestFile, "utf8")) as Manifest;
    if (m.key === key && [f.r1cs, f.wasm, f.zkey, f.vkey].every((x) => existsSync(x))) {
      log(`✓ ${name}: cache hit (${dir})`);
      return { ...m, ...f, stateKeys: compiled.stateKeys, cacheHit: true };
    }
  }
  // Built in a private directory and renamed into place: a concurrent build of the same circuit (another test or
  // process) wastes time but never leaves a half-written key where a prover would read it.
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  // a failed compile or setup leaves no temp directory behind (a large circuit's is hundreds of MB)
  let built: { manifest: Manifest; domainPower: number; setupSeconds: number };
  try {
    const t1 = performance.now();
    log(`… ${name}: compiling ${compiled.imageId.slice(0, 12)}… at K=${opts.k} with circom2`);
    writeFileSync(join(tmp, "applet.circom"), compiled.main);
    const constraints = constraintsOf(await runCircom(join(tmp, "applet.circom"), tmp));
    const circomSeconds = (performance.now() - t1) / 1000;
    log(
      `  ${name}: ${constraints.toLocaleString("en-US")} constraints, circom ${circomSeconds.toFixed(1)} s; ⚠ INSECURE dev setup (public seed)`,
    );
    const t2 = performance.now();
    const pool = new FixedBasePool(2);
    let info;
    try {
      let lastPct = -1;
      info = await devSetup({
        name,
        files: files(tmp, name),
        pool,
        onProgress: (stage, done, total) => {
          const pct = Math.floor((100 * done) / total / 25) * 25;
          if (stage === "points" && pct !== lastPct) log(`  ${name}: setup points ${(lastPct = pct)}%`);
        },
      });
    } finally {
      await pool.close();
    }
    const setupSeconds = (performance.now() - t2) / 1000;
    const manifest: Manifest = {
      name,
      imageId: compiled.imageId,
      k: opts.k,
      hasParam: !!opts.hasParam,
      stateKeys: compiled.stateKeys,
      key,
      constraints,
      domainPower: info.domainPower,
      nPublic: info.nPublic,
      compileAppletSeconds,
      circomSeconds,
      setupSeconds,
      insecureDevSetup: true,
    };
    installBuild(tmp, dir, manifest);
    built = { manifest, domainPower: info.domainPower, setupSeconds };
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  log(`✓ ${name}: 2^${built.domainPower} domain, setup ${built.setupSeconds.toFixed(1)} s`);
  return { ...built.manifest, ...f, cacheHit: false };
}
