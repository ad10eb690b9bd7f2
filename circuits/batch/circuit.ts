/**
 * Batch claim circuits (issue 26): one Groth16 proof for N devices of one applet in one epoch. Each device goes
 * through the per-device statement of today unchanged (the compiled applet main, AppletMain_<id>(K): its signed
 * chain segment covers the epoch and the applet's own Wasm computes its output), and then updates the applet's
 * earnings tree (tree.ts) rollup style: its old leaf under the running root, its new leaf into the next root.
 * Active devices come first, in increasing slot order (so the roots determine the list of new leaves). Public
 * signals: r and S (+ param), whatever N: the epoch, both roots and every new leaf are private and bound to the
 * vault's calldata by S = epoch + prevRoot·r + newRoot·r² + Σ t1_i·r^(3+2i) + t2_i·r^(4+2i) (credits.ts: t1 is the
 * key's id, t2 packs cumulative, output and first epoch), with
 * r = keccak256(imageId, epoch, prevRoot, newRoot, credits) mod p computed by the vault. Keys are the dev setup's,
 * cached under build/batch-circuits/<key>/ like keys.ts.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { getHeapStatistics } from "node:v8";
import { ROOT, cacheKey, installBuild } from "../setup/build.ts";
import { devSetup } from "../setup/dev-setup.ts";
import { FixedBasePool } from "../setup/fixed-base.ts";
import { constraintsOf, runCircom, type Simplification } from "../compile/circom-run.ts";
import { compileApplet } from "../compile/index.ts";
import { BatchSetupMemoryError, BatchSetupMissingError } from "./errors.ts";
import { WINDOW } from "./tree.ts";

/** log2(WINDOW): the bits of a late credit's shift into the window. */
const WINDOW_BITS = Math.log2(Number(WINDOW));

export const BATCH_CIRCUITS_DIR = join(ROOT, "build", "batch-circuits");
/** Depth of the earnings tree the devnet and the tests use: 2^20 slots per applet. */
export const BATCH_DEPTH = 20;

export interface BatchCircuitSpec {
  wasm: Uint8Array;
  /** Slots per device (an APPLET_SIZES value). */
  k: number;
  /** Devices per proof. */
  n: number;
  /** Earnings tree depth (default BATCH_DEPTH). */
  depth?: number;
  hasParam?: boolean;
  /**
   * circom's simplification (default "O2"). "O1" compiles what O2 cannot in circom2's 4 GB (N = 64 here) at about
   * twice the constraints: the same statement, a larger key and a slower proof. Part of the cache key.
   */
  simplification?: Simplification;
}

/** The circom text of a batch main: the compiled applet's main as a component, N times, and the tree updates. */
export function batchCircuitText(spec: BatchCircuitSpec): { imageId: string; name: string; text: string } {
  const { k: K, n: N } = spec;
  const D = spec.depth ?? BATCH_DEPTH;
  if (!Number.isInteger(N) || N < 1 || N > 1024) throw new RangeError(`batch size ${N} is not in 1..1024`);
  if (!Number.isInteger(D) || D < 1 || D > 64) throw new RangeError(`tree depth ${D} is not in 1..64`);
  const compiled = compileApplet({ wasm: spec.wasm, k: K, hasParam: spec.hasParam });
  const id = compiled.imageId.slice(0, 16);
  // includes come before any template in circom: comparators.circom goes in after the main's own includes
  const perDevice = compiled.main
    .replace(/\ncomponent main [^\n]*\n?$/, "\n")
    .replace(
      'include "readings.circom";',
      'include "readings.circom";\ninclude "circomlib/circuits/comparators.circom";',
    );
  if (!perDevice.includes("comparators.circom") || /component main /.test(perDevice))
    throw new Error("the compiled main's layout changed: includes or `component main` not found");
  const hasParam = !!spec.hasParam;
  const pub = ["r", "S", ...(hasParam ? ["param"] : [])];
  const chainInputs = ["Ax", "Ay", "S", "R8x", "R8y", "hasBefore", "beforeSeq", "beforeTs", "beforePrev"];
  const text = `${perDevice}
${EARNINGS_UPDATE}

// Public signals in the order BatchVault rebuilds them: ${pub.join(", ")}.
template BatchMain_${id}(N, K, D) {
${pub.map((p) => `    signal input ${p};`).join("\n")}
    // private, bound to the vault's calldata through S: the epoch, the two roots and every new leaf
    signal input imageId;
    signal input epoch;
    signal input prevRoot;
    signal input newRoot;
    signal input active[N];
    signal input deviceId[N];
    signal input claimOutput[N];
${chainInputs.map((p) => `    signal input ${p === "S" ? "sigS" : p}[N];`).join("\n")}
    signal input beforeValues[N][4];
    signal input enabled[N][K];
    signal input inside[N][K];
    signal input ts[N][K];
    signal input values[N][K][4];
    signal input fresh[N];
    signal input oldCumulative[N];
    signal input oldFirst[N];
    signal input oldLast[N];
    signal input oldWindow[N];
    signal input gap[N];
    signal input siblings[N][D];

    // a batch credits at least one device; inactive entries pad it to N after the active ones and change nothing
    active[0] === 1;
    component claim[N];
    component update[N];
    component ordered[N];
    signal root[N + 1];
    // powers of the challenge: pw[j] = r^j
    signal pw[2 * N + 3];
    signal acc[2 * N + 1];
    signal termA[N];
    signal termB[N];
    pw[0] <== 1;
    for (var j = 1; j < 2 * N + 3; j++) pw[j] <== pw[j - 1] * r;
    signal prevTerm <== prevRoot * pw[1];
    signal newTerm <== newRoot * pw[2];
    acc[0] <== epoch + prevTerm + newTerm;
    root[0] <== prevRoot;
    for (var n = 0; n < N; n++) {
        // the per-device statement of a single claim, unchanged (it pins imageId to this applet's)
        claim[n] = AppletMain_${id}(K);
        claim[n].imageId <== imageId;
        claim[n].deviceId <== deviceId[n];
        claim[n].epoch <== epoch;
        claim[n].claimOutput <== claimOutput[n];
${hasParam ? "        claim[n].param <== param;\n" : ""}${chainInputs.map((p) => `        claim[n].${p} <== ${p === "S" ? "sigS" : p}[n];`).join("\n")}
        claim[n].beforeValues <== beforeValues[n];
        claim[n].enabled <== enabled[n];
        claim[n].inside <== inside[n];
        claim[n].ts <== ts[n];
        claim[n].values <== values[n];

        update[n] = EarningsUpdate(D, ${Number(WINDOW)}, ${WINDOW_BITS});
        update[n].active <== active[n];
        update[n].deviceId <== deviceId[n];
        update[n].epoch <== epoch;
        update[n].credit <== claimOutput[n];
        update[n].oldRoot <== root[n];
        update[n].fresh <== fresh[n];
        update[n].oldCumulative <== oldCumulative[n];
        update[n].oldFirst <== oldFirst[n];
        update[n].oldLast <== oldLast[n];
        update[n].oldWindow <== oldWindow[n];
        update[n].gap <== gap[n];
        update[n].siblings <== siblings[n];
        root[n + 1] <== update[n].newRoot;

        // the new leaf into S (zero when inactive)
        termA[n] <== update[n].t1 * pw[3 + 2 * n];
        termB[n] <== update[n].t2 * pw[4 + 2 * n];
        acc[n + 1] <== acc[n] + termA[n] + termB[n];

        // active entries first, in strictly increasing slot order
        if (n > 0) {
            active[n] * (1 - active[n - 1]) === 0;
            ordered[n] = LessThan(D);
            ordered[n].in[0] <== update[n - 1].slot;
            ordered[n].in[1] <== update[n].slot;
            active[n] * (1 - ordered[n].out) === 0;
        }
    }
    root[N] === newRoot;
    acc[N] === S;
}

component main {public [${pub.join(", ")}]} = BatchMain_${id}(${N}, ${K}, ${D});
`;
  return { imageId: compiled.imageId, name: `batch_${id}_k${K}_n${N}_d${D}`, text };
}

/**
 * One device's credit in the earnings tree of depth D. The slot is the deviceId's low D bits (Num2Bits_strict: the
 * unique decomposition), so a key has one slot; the old leaf must be empty (fresh) or this key's; the epoch must not
 * have been credited to the key yet (once per epoch, whatever the batching): it is later than the leaf's latest
 * credited epoch, or one of the W epochs before it whose bit in the leaf's window is clear (a late credit, tree.ts
 * creditEpoch). Inactive: no change.
 */
const EARNINGS_UPDATE = `template EarningsUpdate(D, W, WB) {
    signal input active;
    signal input deviceId;
    signal input epoch;
    signal input credit;
    signal input oldRoot;
    signal input fresh;
    signal input oldCumulative;
    signal input oldFirst;
    signal input oldLast;
    signal input oldWindow;
    /** epochs between the leaf's latest credited epoch and this one, either way (unused for a fresh leaf) */
    signal input gap;
    signal input siblings[D];
    signal output newRoot;
    /** the slot (the key's low D bits) and the new leaf's two terms of S, times active */
    signal output slot;
    signal output t1;
    signal output t2;

    active * (active - 1) === 0;
    fresh * (fresh - 1) === 0;
    fresh * oldCumulative === 0;
    fresh * oldFirst === 0;
    fresh * oldLast === 0;
    fresh * oldWindow === 0;

    component idBits = Num2Bits_strict();
    idBits.in <== deviceId;

    // the epoch's length is its low 32 bits; every epoch of the applet has the same (the vault checks each batch's),
    // so two of them lie gap epochs apart when they differ by gap · length · 2^32
    component epochBits = Num2Bits(80);
    epochBits.in <== epoch;
    var len = 0;
    for (var i = 0; i < 32; i++) len += epochBits.out[i] * (1 << i);
    // a length of 0 would make the gap equation below 0 = 0 for this very epoch, leaving gap free: the vault never
    // takes one (the applet's length is nonzero), and the circuit does not rely on it
    component lenZero = IsZero();
    lenZero.in <== len;
    lenZero.out === 0;
    // ahead: later than the leaf's latest epoch (a fresh leaf's is 0); otherwise late (or this very epoch: no witness)
    component later = LessThan(80);
    later.in[0] <== oldLast;
    later.in[1] <== epoch;
    signal ahead <== later.out;
    signal late <== 1 - ahead;
    signal aheadOld <== ahead * (1 - fresh);
    component gapBits = Num2Bits(48);
    gapBits.in <== gap;
    signal dist <== (2 * ahead - 1) * (epoch - oldLast);
    signal step <== gap * len;
    signal apart <== (1 - fresh) * (step * (1 << 32) - dist);
    apart === 0;
    // a late epoch lies at most W epochs back; an epoch further ahead than W clears the window
    component farGap = LessThan(48);
    farGap.in[0] <== W;
    farGap.in[1] <== gap;
    late * farGap.out === 0;
    signal near <== 1 - farGap.out;
    // pow = 2^(gap - 1) for a late credit and a near one ahead (gap ≥ 1: the epochs differ), 1 otherwise; a late gap
    // of 0 (this very epoch) leaves shift = -1, which has no WB-bit decomposition
    signal shifting <== (late + aheadOld) * near;
    signal shift <== shifting * (gap - 1);
    component shiftBits = Num2Bits(WB);
    shiftBits.in <== shift;
    signal pow[WB + 1];
    pow[0] <== 1;
    for (var i = 0; i < WB; i++) pow[i + 1] <== pow[i] * (1 + shiftBits.out[i] * ((1 << (1 << i)) - 1));
    // late: the epoch's bit of the old window is clear, and is set
    component oldBits = Num2Bits(W);
    oldBits.in <== oldWindow;
    component hot = Num2Bits(W);
    hot.in <== pow[WB];
    signal clash[W];
    var clashes = 0;
    for (var i = 0; i < W; i++) {
        clash[i] <== hot.out[i] * oldBits.out[i];
        clashes += clash[i];
    }
    late * clashes === 0;
    // ahead: the old latest epoch becomes bit gap - 1 and the older bits move up with it; bits past W drop out
    component shifted = Num2Bits(2 * W);
    shifted.in <== (2 * oldWindow + 1) * pow[WB];
    var low = 0;
    for (var i = 0; i < W; i++) low += shifted.out[i] * (1 << i);
    signal nearAhead <== aheadOld * near;
    signal windowAhead <== nearAhead * low;
    signal windowLate <== late * (oldWindow + pow[WB]);
    signal newWindow <== windowAhead + windowLate;
    signal newLast <== oldLast + ahead * (epoch - oldLast);
    // how many epochs this credit lies before the leaf's latest (the vault checks the key's window up to the latest)
    signal lag <== late * gap;

    // outputs are units in [0, 2^64); cumulative stays below 2^96 (the vault multiplies it by the reward); the first
    // epoch is below 2^80 like every epoch (checked here too, not only by induction over the tree's leaves), and a
    // late credit may move it back
    component outBits = Num2Bits(64);
    outBits.in <== credit;
    signal newCumulative <== oldCumulative + credit;
    component cumBits = Num2Bits(96);
    cumBits.in <== newCumulative;
    component earlier = LessThan(80);
    earlier.in[0] <== epoch;
    earlier.in[1] <== oldFirst;
    signal lateFirst <== late * earlier.out;
    signal freshFirst <== fresh * epoch;
    signal movedFirst <== lateFirst * (epoch - oldFirst);
    signal newFirst <== oldFirst + freshFirst + movedFirst;
    component firstBits = Num2Bits(80);
    firstBits.in <== newFirst;

    component oldLeaf = Poseidon(5);
    oldLeaf.inputs[0] <== deviceId;
    oldLeaf.inputs[1] <== oldCumulative;
    oldLeaf.inputs[2] <== oldFirst;
    oldLeaf.inputs[3] <== oldLast;
    oldLeaf.inputs[4] <== oldWindow;
    component newLeaf = Poseidon(5);
    newLeaf.inputs[0] <== deviceId;
    newLeaf.inputs[1] <== newCumulative;
    newLeaf.inputs[2] <== newFirst;
    newLeaf.inputs[3] <== newLast;
    newLeaf.inputs[4] <== newWindow;

    // the same path (siblings, index bits) from the old leaf to the old root and from the new leaf to the new root
    signal oldH[D + 1];
    signal newH[D + 1];
    signal oldT[D];
    signal newT[D];
    component oldHash[D];
    component newHash[D];
    oldH[0] <== (1 - fresh) * oldLeaf.out;
    newH[0] <== newLeaf.out;
    for (var i = 0; i < D; i++) {
        oldT[i] <== idBits.out[i] * (siblings[i] - oldH[i]);
        oldHash[i] = Poseidon(2);
        oldHash[i].inputs[0] <== oldH[i] + oldT[i];
        oldHash[i].inputs[1] <== siblings[i] - oldT[i];
        oldH[i + 1] <== oldHash[i].out;
        newT[i] <== idBits.out[i] * (siblings[i] - newH[i]);
        newHash[i] = Poseidon(2);
        newHash[i].inputs[0] <== newH[i] + newT[i];
        newHash[i].inputs[1] <== siblings[i] - newT[i];
        newH[i + 1] <== newHash[i].out;
    }
    active * (oldH[D] - oldRoot) === 0;
    newRoot <== oldRoot + active * (newH[D] - oldRoot);

    // the credit as the vault reads it from calldata: the key's id, and lag·2^240 + cumulative·2^144 + output·2^80
    // + first (each part range-checked above, lag ≤ W < 2^7, so the sum stays below 2^247 and packs them uniquely)
    var s = 0;
    for (var i = 0; i < D; i++) s += idBits.out[i] * (1 << i);
    slot <== s;
    t1 <== active * deviceId;
    t2 <== active * (lag * (1 << 240) + newCumulative * (1 << 144) + credit * (1 << 80) + newFirst);
}`;

export interface BatchCircuit {
  name: string;
  imageId: string;
  k: number;
  n: number;
  depth: number;
  hasParam: boolean;
  key: string;
  dir: string;
  r1cs: string;
  wasm: string;
  zkey: string;
  vkey: string;
  solidity: string;
  constraints: number;
  /** circom's simplification the circuit was compiled with. */
  simplification: Simplification;
  domainPower: number;
  nPublic: number;
  circomSeconds: number;
  setupSeconds: number;
  cacheHit: boolean;
}

type Manifest = Omit<BatchCircuit, "dir" | "r1cs" | "wasm" | "zkey" | "vkey" | "solidity" | "cacheHit"> & {
  insecureDevSetup: true;
};

function files(dir: string, name: string) {
  return {
    dir,
    r1cs: join(dir, "batch.r1cs"),
    wasm: join(dir, "batch_js", "batch.wasm"),
    zkey: join(dir, `${name}.zkey`),
    vkey: join(dir, "verification_key.json"),
    solidity: join(dir, `Groth16Verifier_${name}.sol`),
  };
}

/**
 * The batch circuit and its DEV keys, built on first use and cached (build/batch-circuits/<key>/). Slow: circom and
 * the setup of N devices' constraints (minutes for N = 8), so it is not part of `npm run build`.
 */
export async function setupBatchCircuit(
  spec: BatchCircuitSpec & {
    log?: (m: string) => void;
    buildDir?: string;
    /** Only a cached circuit: throws BatchSetupMissingError instead of compiling and setting up (minutes). */
    cacheOnly?: boolean;
  },
): Promise<BatchCircuit> {
  const log = spec.log ?? ((m: string) => process.stderr.write(m + "\n"));
  // unset: O2, or O1 when circom2 cannot compile the circuit at O2 within its 4 GB (N = 64 here); either from the cache
  const levels: Simplification[] = spec.simplification ? [spec.simplification] : ["O2", "O1"];
  for (const level of levels) {
    const hit = cachedBatchCircuit(spec, level, log);
    if (hit) return hit;
  }
  if (spec.cacheOnly) {
    const { name } = batchCircuitText(spec);
    throw new BatchSetupMissingError(`${name} has no keys in ${spec.buildDir ?? BATCH_CIRCUITS_DIR}`, {
      details: "set it up once with setupBatchCircuit (circom2 and the dev setup: minutes, more for large N)",
    });
  }
  for (const level of levels) {
    try {
      return await buildBatchCircuit(spec, level, log);
    } catch (e) {
      if (level !== levels[0] || levels.length === 1 || !isCircomOutOfMemory(e)) throw e;
      log(`  circom2 ran out of its 4 GB at --${level}: compiling with --${levels[1]} (about twice the constraints)`);
    }
  }
  throw new Error("unreachable");
}

/**
 * The JavaScript heap the dev setup lacks for a circuit of `constraints`, if it does (it holds the R1CS and the key's
 * points in the heap: 3.6 M constraints ran out of a 4 GB heap here and fit in 16 GB; 2 KB a constraint, with margin).
 * Checked before the setup: V8 running out of heap ends the process, with no error to catch.
 */
export function setupHeapShortfall(
  constraints: number,
  heapLimitBytes: number,
): { neededMb: number; limitMb: number } | undefined {
  const needed = constraints * 2048;
  if (needed <= heapLimitBytes) return undefined;
  return { neededMb: Math.ceil(needed / 2 ** 20), limitMb: Math.floor(heapLimitBytes / 2 ** 20) };
}

/** circom2's failure when its Wasm32 memory (4 GB) runs out, as runCircom reports it. */
export function isCircomOutOfMemory(e: unknown): boolean {
  return /circom2 failed[\s\S]*memory allocation of \d+ bytes failed/.test(String((e as Error)?.message ?? e));
}

/** Where a batch circuit compiled at `level` is cached (O2 keeps the key it always had; O1 is another circuit). */
function batchCacheDir(spec: BatchCircuitSpec & { buildDir?: string }, level: Simplification) {
  const { text } = batchCircuitText(spec);
  const key = cacheKey({ main: level === "O2" ? text : `// circom --${level}\n${text}` });
  return { key, dir: join(spec.buildDir ?? BATCH_CIRCUITS_DIR, key.slice(0, 24)) };
}

function cachedBatchCircuit(
  spec: BatchCircuitSpec & { buildDir?: string },
  level: Simplification,
  log: (m: string) => void,
): BatchCircuit | undefined {
  const { name } = batchCircuitText(spec);
  const { key, dir } = batchCacheDir(spec, level);
  const f = files(dir, name);
  const manifestFile = join(dir, "manifest.json");
  if (!existsSync(manifestFile)) return undefined;
  const m = JSON.parse(readFileSync(manifestFile, "utf8")) as Manifest;
  if (m.key !== key || ![f.r1cs, f.wasm, f.zkey, f.vkey].every((x) => existsSync(x))) return undefined;
  log(`✓ ${name}: cache hit (${dir})`);
  return { ...m, simplification: m.simplification ?? "O2", ...f, cacheHit: true };
}

async function buildBatchCircuit(
  spec: BatchCircuitSpec & { buildDir?: string },
  simplification: Simplification,
  log: (m: string) => void,
): Promise<BatchCircuit> {
  const { imageId, name, text } = batchCircuitText(spec);
  const depth = spec.depth ?? BATCH_DEPTH;
  const { key, dir } = batchCacheDir(spec, simplification);
  const f = files(dir, name);
  // built in a private directory and renamed into place, as keys.ts: a concurrent build never leaves half a key
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  // a failure (circom2 out of memory, too little heap for the setup) leaves no half-built directory behind
  try {
    const t1 = performance.now();
    log(
      `… ${name}: compiling ${spec.n} × the applet at K=${spec.k} + tree depth ${depth} with circom2 --${simplification}`,
    );
    writeFileSync(join(tmp, "batch.circom"), text);
    const constraints = constraintsOf(await runCircom(join(tmp, "batch.circom"), tmp, simplification));
    const circomSeconds = (performance.now() - t1) / 1000;
    log(
      `  ${name}: ${constraints.toLocaleString("en-US")} constraints, circom ${circomSeconds.toFixed(1)} s; ⚠ INSECURE dev setup`,
    );
    const heap = setupHeapShortfall(constraints, getHeapStatistics().heap_size_limit);
    if (heap)
      throw new BatchSetupMemoryError(
        `the dev setup of ${name} (${constraints.toLocaleString("en-US")} constraints) needs about ${heap.neededMb} MB of JavaScript heap; this process has ${heap.limitMb} MB`,
        { details: `run it again with NODE_OPTIONS=--max-old-space-size=${heap.neededMb} (circom runs again)` },
      );
    const t2 = performance.now();
    const pool = new FixedBasePool(2);
    let info;
    try {
      info = await devSetup({ name, files: files(tmp, name), pool });
    } finally {
      await pool.close();
    }
    const setupSeconds = (performance.now() - t2) / 1000;
    const manifest: Manifest = {
      name,
      imageId,
      k: spec.k,
      n: spec.n,
      depth,
      hasParam: !!spec.hasParam,
      key,
      constraints,
      simplification,
      domainPower: info.domainPower,
      nPublic: info.nPublic,
      circomSeconds,
      setupSeconds,
      insecureDevSetup: true,
    };
    installBuild(tmp, dir, manifest);
    log(`✓ ${name}: 2^${info.domainPower} domain, setup ${setupSeconds.toFixed(1)} s`);
    return { ...manifest, ...f, cacheHit: false };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
