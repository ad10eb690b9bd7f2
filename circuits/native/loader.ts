/**
 * Finds the native prover addon (build/native/mfi_prover.node, built best-effort by scripts/build-native.mjs) and
 * the Wasm prover (build/wasm-prover/prover.wasm, circuits/wasm-prover) and says which backend proving uses and why.
 * Each is used only when it loads and passes a known-answer check of its curve and NTT arithmetic against values from
 * ffjavascript (snarkjs's arithmetic). Order: native → Wasm → snarkjs. The Wasm backend is single-threaded but uses
 * less CPU per proof than snarkjs's multi-threaded Wasm (K=256: 16.6 CPU-s vs 44.9; `npm run bench -- native`), so it
 * proves faster than snarkjs under load and about as fast on two quiet cores (docs/circuits.md, numbers).
 * `MFI_PROVER=snarkjs` forces snarkjs, `MFI_PROVER=native` / `MFI_PROVER=wasm` ask for that backend (still refused
 * when its check fails; native then goes to snarkjs), and
 * `MFI_NATIVE_ADDON` points at another addon file (tests simulate a failed native build with it).
 */
import { createRequire } from "node:module";
import { existsSync, readFileSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { WasmProver, WASM_PROVER } from "../wasm-prover/addon.ts";
import { R } from "../setup/field.ts";

export interface NativeAddon {
  msmG1(points: Uint8Array, scalars: Uint8Array, threads?: number): Uint8Array;
  msmG2(points: Uint8Array, scalars: Uint8Array, threads?: number): Uint8Array;
  ntt(values: Uint8Array, inverse: boolean): Uint8Array;
  prove(
    header: Uint8Array,
    coeffs: Uint8Array,
    witness: Uint8Array,
    A: Uint8Array,
    B1: Uint8Array,
    B2: Uint8Array,
    C: Uint8Array,
    H: Uint8Array,
    nPublic: number,
    domainSize: number,
    rs: Uint8Array,
    threads?: number,
  ): Uint8Array;
}

export type ProverBackend =
  | { backend: "native" | "wasm"; reason: string; addon: NativeAddon }
  | { backend: "snarkjs"; reason: string; addon?: undefined };

/**
 * Whether the Wasm backend comes before snarkjs when native is not usable: yes while it measures faster than or close
 * to snarkjs (the header; `prove.k256.wasm_vs_snarkjs_ratio`). Set false if a bench shows it slower.
 */
export const WASM_BEFORE_SNARKJS = true;

export const NATIVE_ADDON = join(
  dirname(fileURLToPath(import.meta.url)),
  "..",
  "..",
  "build",
  "native",
  "mfi_prover.node",
);

const Q = 21888242871839275222246405745257275088696311157297823662689037894645226208583n;
/** 5·G1 (G1 = (1, 2)), as ffjavascript computes it. */
const G1_TIMES_5 = [
  10744596414106452074759370245733544594153395043370666422502510773307029471145n,
  848677436511517736191562425154572367705380862894644942948681172815252343932n,
];
/** The 4th root of unity ffjavascript's Fr.fft uses (w[2]). */
const W4 = 21888242871839275217838484774961031246007050428528088939761107053157389710902n;

export function le32(x: bigint): Uint8Array {
  const b = new Uint8Array(32);
  for (let i = 0; i < 32; i++, x >>= 8n) b[i] = Number(x & 0xffn);
  return b;
}
export function fromLe(b: Uint8Array): bigint {
  let x = 0n;
  for (let i = b.length - 1; i >= 0; i--) x = (x << 8n) | BigInt(b[i]!);
  return x;
}
const mont = (x: bigint, p: bigint) => le32((x << 256n) % p);

/** Known answers: 2·G + 3·G = 5·G (with a repeated point and a zero scalar); the size-4 NTT of [1, 2, 3, 4]. */
export function selfCheck(addon: NativeAddon): string | undefined {
  const g = new Uint8Array(64 * 3);
  for (let i = 0; i < 3; i++) (g.set(mont(1n, Q), 64 * i), g.set(mont(2n, Q), 64 * i + 32));
  const sc = new Uint8Array(96);
  sc.set(le32(2n), 0);
  sc.set(le32(3n + R), 64);
  const got = addon.msmG1(g, sc, 1);
  if (fromLe(got.subarray(0, 32)) !== G1_TIMES_5[0] || fromLe(got.subarray(32)) !== G1_TIMES_5[1])
    return "the G1 multi-scalar multiplication gave a wrong answer";
  const v = new Uint8Array(128);
  [1n, 2n, 3n, 4n].forEach((x, i) => v.set(mont(x, R), 32 * i));
  const f = addon.ntt(v, false);
  const rinv = (() => {
    // R^-1 mod r by Fermat, to read Montgomery values back.
    let [b, e, acc] = [(1n << 256n) % R, R - 2n, 1n];
    for (; e > 0n; e >>= 1n, b = (b * b) % R) if (e & 1n) acc = (acc * b) % R;
    return acc;
  })();
  for (let i = 0; i < 4; i++) {
    let want = 0n;
    for (let j = 0; j < 4; j++) {
      let wp = 1n;
      for (let k = 0; k < (i * j) % 4; k++) wp = (wp * W4) % R;
      want = (want + BigInt(j + 1) * wp) % R;
    }
    if ((fromLe(f.subarray(32 * i, 32 * i + 32)) * rinv) % R !== want) return "the NTT gave a wrong answer";
  }
  return undefined;
}

const cache = new Map<string, ProverBackend>();

/** Which backend proves, and why (cached per addon path and MFI_PROVER value). */
export function proverBackend(opts: { addonPath?: string; env?: string; wasmPath?: string } = {}): ProverBackend {
  const path = opts.addonPath ?? process.env.MFI_NATIVE_ADDON ?? NATIVE_ADDON;
  const wasmPath = opts.wasmPath ?? WASM_PROVER;
  const want = opts.env ?? process.env.MFI_PROVER ?? "";
  const key = `${path}\0${wasmPath}\0${want}`;
  let b = cache.get(key);
  if (!b) cache.set(key, (b = decide(path, wasmPath, want)));
  return b;
}

function decide(path: string, wasmPath: string, want: string): ProverBackend {
  if (want === "snarkjs") return { backend: "snarkjs", reason: "MFI_PROVER=snarkjs" };
  if (want === "wasm") {
    const w = wasmBackend(wasmPath);
    return "addon" in w ? { ...w, reason: `MFI_PROVER=wasm: ${w.reason}` } : { backend: "snarkjs", reason: w.why };
  }
  const n = nativeBackend(path);
  if ("addon" in n) return n;
  if (want === "native" || !WASM_BEFORE_SNARKJS) return { backend: "snarkjs", reason: n.why };
  const w = wasmBackend(wasmPath);
  return "addon" in w
    ? { ...w, reason: `${n.why}; ${w.reason}` }
    : { backend: "snarkjs", reason: `${n.why}; ${w.why}` };
}

type Tried = { backend: "native" | "wasm"; reason: string; addon: NativeAddon } | { why: string };

function nativeBackend(path: string): Tried {
  if (!existsSync(path)) return { why: `the native prover is not built (${path} is missing; run npm run build)` };
  let addon: NativeAddon;
  try {
    addon = createRequire(import.meta.url)(path) as NativeAddon;
  } catch (e) {
    return { why: `the native prover does not load: ${(e as Error).message.split("\n")[0]}` };
  }
  const bad = selfCheck(addon);
  if (bad) return { why: `the native prover failed its self-check: ${bad}` };
  return { backend: "native", reason: `native addon ${path} passed its self-check`, addon };
}

function wasmBackend(path: string): Tried {
  if (!existsSync(path)) return { why: `the Wasm prover is not built (${path} is missing; run npm run build)` };
  let addon: NativeAddon;
  try {
    addon = new WasmProver(readFileSync(path));
  } catch (e) {
    return { why: `the Wasm prover does not load: ${(e as Error).message.split("\n")[0]}` };
  }
  const bad = selfCheck(addon);
  if (bad) return { why: `the Wasm prover failed its self-check: ${bad}` };
  return { backend: "wasm", reason: `Wasm prover ${path} passed its self-check`, addon };
}
