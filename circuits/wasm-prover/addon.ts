/**
 * The Wasm Groth16 prover (build/wasm-prover/prover.wasm, made by scripts/build-wasm-prover.ts) behind the same
 * interface as the native addon (circuits/native/loader.ts NativeAddon): the same byte layouts in and out, so the
 * loader, the self-check and proveNative take either. Single-threaded; the `threads` arguments are accepted and
 * ignored. JS owns the module's memory: each call lays its buffers out from heap_base() and grows memory as needed.
 */
import { readFileSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import type { NativeAddon } from "../native/loader.ts";
import { Q, R, FE, FQ_LAYOUT, FR_LAYOUT } from "./codegen.ts";
import { mod, inv, limbs } from "../../device-sdk/crypto/codegen.ts";
import { proveWith } from "./prove.ts";

export const WASM_PROVER = join(
  dirname(fileURLToPath(import.meta.url)),
  "..",
  "..",
  "build",
  "wasm-prover",
  "prover.wasm",
);

interface ProverExports {
  memory: WebAssembly.Memory;
  heap_base(): number;
  fq_load(dst: number, src: number, count: number): void;
  fq_store_std(dst: number, a: number): void;
  scalars_reduce(p: number, n: number): void;
  msm_digits(dst: number, sc: number, n: number, c: number, nWin: number): void;
  g1_msm(out: number, pts: number, digits: number, n: number, c: number, nWin: number, buckets: number): void;
  g2_msm(out: number, pts: number, digits: number, n: number, c: number, nWin: number, buckets: number): void;
  fr_load(dst: number, src: number, n: number, mode: number): void;
  fr_store(dst: number, src: number, n: number, mode: number): void;
  fr_powers_mul(a: number, n: number, k: number): void;
  fr_scale(a: number, n: number, s: number): void;
  fr_mul_sub(out: number, a: number, b: number, c: number, n: number): void;
  fr_ntt(a: number, log: number, w: number, tw: number): void;
  qap_eval(coeffs: number, nCoef: number, w: number, nVars: number, a: number, b: number, n: number): number;
}

const FR_S = 28;
const powmod = (b: bigint, e: bigint, m: bigint) => {
  let acc = 1n;
  for (b %= m; e > 0n; e >>= 1n, b = (b * b) % m) if (e & 1n) acc = (acc * b) % m;
  return acc;
};
/** The 2^log-th root of unity ffjavascript uses: 5^((r − 1) / 2^28), squared down. */
export function rootOfUnity(log: number): bigint {
  let w = powmod(5n, (R - 1n) >> BigInt(FR_S), R);
  for (let i = FR_S; i > log; i--) w = (w * w) % R;
  return w;
}

/** Signed-digit window: cost ≈ windows · (n + 2^c) additions, the cheapest c (as the native addon). */
function windowBits(n: number): number {
  let best = 2,
    bestCost = Infinity;
  for (let c = 2; c <= 20; c++) {
    const cost = Math.floor((254 + c) / c) * (n + 2 ** c);
    if (cost < bestCost) ((bestCost = cost), (best = c));
  }
  return best;
}

const fromLe = (b: Uint8Array) => {
  let x = 0n;
  for (let i = b.length - 1; i >= 0; i--) x = (x << 8n) | BigInt(b[i]!);
  return x;
};
const putLe = (out: Uint8Array, at: number, x: bigint) => {
  for (let i = 0; i < 32; i++, x >>= 8n) out[at + i] = Number(x & 0xffn);
};

export class WasmProver implements NativeAddon {
  private readonly x: ProverExports;
  private top = 0;
  constructor(bytes: Uint8Array = readFileSync(WASM_PROVER)) {
    const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes as BufferSource), { env: { abort: () => {} } });
    this.x = inst.exports as unknown as ProverExports;
  }

  private reset(): void {
    this.top = (this.x.heap_base() + 15) & ~15;
  }
  private alloc(bytes: number): number {
    const p = this.top;
    this.top = (p + bytes + 15) & ~15;
    const mem = this.x.memory;
    if (this.top > mem.buffer.byteLength) mem.grow(Math.ceil((this.top - mem.buffer.byteLength) / 65536));
    return p;
  }
  private bytes(p: number, len: number): Uint8Array {
    return new Uint8Array(this.x.memory.buffer, p, len);
  }
  private put(bytes: Uint8Array): number {
    const p = this.alloc(bytes.length);
    this.bytes(p, bytes.length).set(bytes);
    return p;
  }
  /** A field element in our Montgomery form (x·2^bits), as limbs. */
  private putField(x: bigint, fr: boolean): number {
    const lay = fr ? FR_LAYOUT : FQ_LAYOUT;
    const m = fr ? R : Q;
    const p = this.alloc(FE);
    const v = new Uint32Array(this.x.memory.buffer, p, FE / 4);
    v.fill(0);
    v.set(limbs(mod(x << BigInt(lay.w * lay.n), m), lay));
    return p;
  }
  private readStd(p: number, count: number): bigint[] {
    const tmp = this.alloc(32);
    const out: bigint[] = [];
    for (let i = 0; i < count; i++) {
      this.x.fq_store_std(tmp, p + FE * i);
      out.push(fromLe(this.bytes(tmp, 32)));
    }
    return out;
  }

  private msm(g2: boolean, points: Uint8Array, scalars: Uint8Array): bigint[] {
    const coords = g2 ? 4 : 2; // Fq values per affine point
    if (!(points instanceof Uint8Array) || !(scalars instanceof Uint8Array))
      throw new TypeError("msm(points: Uint8Array, scalars: Uint8Array, threads?: number)");
    if (scalars.length % 32 !== 0) throw new RangeError("scalars must be 32 bytes each");
    const n = scalars.length / 32;
    if (points.length !== n * 32 * coords) throw new RangeError(`points must be ${32 * coords} bytes per scalar`);
    this.reset();
    const jac = this.alloc(3 * (coords / 2) * FE);
    if (n === 0) return [];
    const raw = this.put(points);
    const pts = this.alloc(n * coords * FE);
    this.x.fq_load(pts, raw, n * coords);
    const sc = this.put(scalars);
    this.x.scalars_reduce(sc, n);
    const c = windowBits(n);
    const nWin = Math.floor(254 / c) + 2;
    const digits = this.alloc(nWin * n * 4);
    this.x.msm_digits(digits, sc, n, c, nWin);
    const buckets = this.alloc((1 << (c - 1)) * 3 * (coords / 2) * FE);
    (g2 ? this.x.g2_msm : this.x.g1_msm)(jac, pts, digits, n, c, nWin, buckets);
    return this.readStd(jac, 3 * (coords / 2));
  }

  msmG1(points: Uint8Array, scalars: Uint8Array): Uint8Array {
    const out = new Uint8Array(64);
    const j = this.msm(false, points, scalars);
    if (j.length === 0 || j[2] === 0n) return out;
    const zi = inv(j[2]!, Q),
      zi2 = (zi * zi) % Q;
    putLe(out, 0, (j[0]! * zi2) % Q);
    putLe(out, 32, (((j[1]! * zi2) % Q) * zi) % Q);
    return out;
  }

  msmG2(points: Uint8Array, scalars: Uint8Array): Uint8Array {
    const out = new Uint8Array(128);
    const j = this.msm(true, points, scalars);
    if (j.length === 0 || (j[4] === 0n && j[5] === 0n)) return out;
    const mul = (a: bigint[], b: bigint[]) => [
      mod(a[0]! * b[0]! - a[1]! * b[1]!, Q),
      mod(a[0]! * b[1]! + a[1]! * b[0]!, Q),
    ];
    const z = [j[4]!, j[5]!];
    const d = inv((z[0]! * z[0]! + z[1]! * z[1]!) % Q, Q);
    const zi = [(z[0]! * d) % Q, mod(-z[1]! * d, Q)];
    const zi2 = mul(zi, zi);
    const x = mul([j[0]!, j[1]!], zi2);
    const y = mul(mul([j[2]!, j[3]!], zi2), zi);
    [x[0]!, x[1]!, y[0]!, y[1]!].forEach((v, i) => putLe(out, 32 * i, v));
    return out;
  }

  ntt(values: Uint8Array, inverse: boolean): Uint8Array {
    if (!(values instanceof Uint8Array) || typeof inverse !== "boolean")
      throw new TypeError("ntt(values: Uint8Array, inverse: boolean)");
    const n = values.length / 32;
    const log = Math.round(Math.log2(n));
    if (values.length % 32 !== 0 || n === 0 || 2 ** log !== n || log > FR_S)
      throw new RangeError("ntt needs 2^k values of 32 bytes, k <= 28");
    this.reset();
    const raw = this.put(values);
    const a = this.alloc(n * FE);
    this.x.fr_load(a, raw, n, 0);
    this.nttIn(a, log, inverse);
    this.x.fr_store(raw, a, n, 0);
    return this.bytes(raw, n * 32).slice();
  }

  /** In-place NTT on our Fr values at `a` (uses memory above this.top and gives it back). */
  nttIn(a: number, log: number, inverse: boolean): void {
    const top = this.top;
    const n = 2 ** log;
    const w = rootOfUnity(log);
    const wp = this.putField(inverse ? inv(w, R) : w, true);
    const tw = this.alloc(Math.max(1, n / 2) * FE);
    this.x.fr_ntt(a, log, wp, tw);
    if (inverse) this.x.fr_scale(a, n, this.putField(inv(BigInt(n), R), true));
    this.top = top;
  }

  prove(...args: Parameters<NativeAddon["prove"]>): Uint8Array {
    return proveWith(this, this.x, args);
  }

  /** For prove.ts: the raw module and the allocator. */
  get exports(): ProverExports {
    return this.x;
  }
  begin(): void {
    this.reset();
  }
  allocate(bytes: number): number {
    return this.alloc(bytes);
  }
  write(bytes: Uint8Array): number {
    return this.put(bytes);
  }
  view(p: number, len: number): Uint8Array {
    return this.bytes(p, len);
  }
  field(x: bigint): number {
    return this.putField(x, true);
  }
}

export type { ProverExports };
