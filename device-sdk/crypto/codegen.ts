/**
 * Generates the AssemblyScript sources that are pure data or pure unrolling, for scripts/build-crypto.ts:
 *  - Montgomery arithmetic modulo the BN254 scalar field p (BabyJubJub's base field) and modulo the BabyJubJub
 *    subgroup order l, on 9 limbs of 29 bits. 29-bit limbs let a whole multiplication accumulate products in i64
 *    without carry propagation in the inner loop (2·9·2^58 < 2^63), which measures faster in Wasm than 8×32-bit CIOS.
 *  - circomlib's Poseidon constants (the "opt" variant of circomlibjs) for t = 2..17, in Montgomery form.
 *  - BabyJubJub constants (a, d, Base8) in Montgomery form.
 * Everything is branch-free so the signing path stays constant-time.
 */
import { SNARK_FIELD } from "../field.ts";
export const P = SNARK_FIELD;
export const L = 2736030358979909402780800718157159386076813972158567259200215660948447373041n;
/** Limb layout per field: w bits per limb, n limbs, stored as n u32 words. */
export interface Layout {
  w: number;
  n: number;
}
/**
 * p ≡ 1 (mod 2^28), so with 28-bit limbs the Montgomery quotient digit is just -t mod 2^28: no multiplication on the
 * carry chain that serialises the reduction. l has no such form; 29-bit limbs (one fewer) serve it best.
 */
export const FP_LAYOUT: Layout = { w: 28, n: 10 };
export const FL_LAYOUT: Layout = { w: 29, n: 9 };
/** Bytes reserved per field element in the AssemblyScript sources (both layouts fit). */
export const FE_BYTES = 40;

export const mod = (a: bigint, m: bigint) => ((a % m) + m) % m;

export function inv(a: bigint, m: bigint): bigint {
  let [r0, r1, s0, s1] = [mod(a, m), m, 1n, 0n];
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1] = [r1, r0 - q * r1];
    [s0, s1] = [s1, s0 - q * s1];
  }
  return mod(s0, m);
}

export function limbs(x: bigint, { w, n }: Layout = FP_LAYOUT): number[] {
  const out: number[] = [];
  const mask = (1n << BigInt(w)) - 1n;
  for (let i = 0; i < n; i++) out.push(Number((x >> BigInt(w * i)) & mask));
  return out;
}

export const toMont = (x: bigint, m: bigint, { w, n }: Layout = FP_LAYOUT) => mod(x << BigInt(w * n), m);

/** AS source of one Montgomery field: `${pre}_mul/add/sub/neg/eq/is_zero/copy/from_u256/to_u256/cmov`. */
export function genField(pre: string, m: bigint, lay: Layout, opts: { xFromMemory?: boolean } = {}): string {
  const { n, w: W } = lay;
  const MASK = (1n << BigInt(W)) - 1n;
  const R = 1n << BigInt(W * n);
  const pl = limbs(m, lay);
  const mu = Number(mod(-inv(m, 1n << BigInt(W)), 1n << BigInt(W)));
  const unitLow = pl[0] === 1;
  const o: string[] = [];
  const ld = (v: string, p: string) =>
    Array.from({ length: n }, (_, k) => `const ${v}${k}: u64 = <u64>load<u32>(${p}, ${4 * k});`).join(" ");
  // Conditional subtraction of a modulus (m, or 2m for the lazy forms) from r0..r(n-1) (value < 2·modulus), writing
  // to `out`: branch-free select.
  const condSubBy = (ml: number[]) => (out: string) => {
    const s: string[] = ["let d: i64 = 0;"];
    for (let k = 0; k < n; k++) {
      s.push(`d += <i64>r${k} - ${ml[k]}; const s${k}: u64 = <u64>d & ${MASK}; d >>= ${W};`);
    }
    // d == -1 ⇔ r < modulus ⇒ keep r; else take s.
    s.push("const keep: u64 = <u64>d;");
    for (let k = 0; k < n; k++) s.push(`store<u32>(${out}, <u32>((r${k} & keep) | (s${k} & ~keep)), ${4 * k});`);
    return s.join("\n  ");
  };
  const condSub = condSubBy(pl);
  const condSub2 = condSubBy(limbs(2n * m, lay));
  // Lazy forms leave results in [0, 2m) unreduced: with R = 2^280 far above 4m², Montgomery products of inputs
  // below 2m stay below 2m, so Poseidon can skip almost every final subtraction (its output is reduced once).
  const rawStore = (out: string) =>
    Array.from({ length: n }, (_, k) => `store<u32>(${out}, <u32>r${k}, ${4 * k});`).join(" ");

  o.push(`// ---- ${pre}: Montgomery arithmetic mod ${m}, ${n} limbs of ${W} bits (R = 2^${W * n})`);
  o.push(`export const ${pre.toUpperCase()}_MU: u64 = ${mu};`);
  // Operand scanning with the reduction interleaved; `addend` adds c (< 2m) to the result (lazy a·b + c).
  /** a + b limb by limb with carries, then `final` brings the sum back into range. */
  const addFn = (name: string, final: (out: string) => string) => {
    o.push(`export function ${name}(out: usize, a: usize, b: usize): void {`);
    o.push("  " + ld("x", "a"));
    o.push("  " + ld("y", "b"));
    const add: string[] = ["let c: u64 = 0;"];
    for (let k = 0; k < n; k++) add.push(`c += x${k} + y${k}; const r${k}: u64 = c & ${MASK}; c >>= ${W};`);
    o.push("  " + add.join(" "));
    o.push("  " + final("out"));
    o.push("}");
  };
  const mulFn = (name: string, final: (out: string) => string, addend = false) => {
    o.push(`export function ${name}(out: usize, a: usize, b: usize${addend ? ", ad: usize" : ""}): void {`);
    if (!opts.xFromMemory) o.push("  " + ld("x", "a"));
    o.push("  " + ld("y", "b"));
    if (addend) o.push("  " + ld("z", "ad"));
    o.push("  " + Array.from({ length: n - 1 }, (_, k) => `let t${k}: u64 = 0;`).join(" "));
    o.push("  let tmp: u64 = 0; let q: u64 = 0;");
    for (let i = 0; i < n; i++) {
      if (opts.xFromMemory) o.push(`  const x${i}: u64 = <u64>load<u32>(a, ${4 * i});`);
      o.push(
        unitLow
          ? `  tmp = t0 + x${i} * y0; q = (0 - tmp) & ${MASK}; tmp += q;`
          : `  tmp = t0 + x${i} * y0; q = ((tmp & ${MASK}) * ${mu}) & ${MASK}; tmp += q * ${pl[0]};`,
      );
      const lines: string[] = [];
      for (let j = 1; j < n; j++) {
        const prev = j < n - 1 ? `t${j} + ` : "";
        const carry = j === 1 ? ` + (tmp >> ${W})` : "";
        lines.push(`t${j - 1} = ${prev}x${i} * y${j} + q * ${pl[j]}${carry};`);
      }
      o.push("  " + lines.join(" "));
    }
    const z = (k: number) => (addend ? ` + z${k}` : "");
    const cr: string[] = ["let c: u64 = 0;"];
    for (let k = 0; k < n - 1; k++) cr.push(`c += t${k}${z(k)}; const r${k}: u64 = c & ${MASK}; c >>= ${W};`);
    cr.push(`const r${n - 1}: u64 = c${z(n - 1)};`);
    o.push("  " + cr.join(" "));
    o.push("  " + final("out"));
    o.push("}");
  };
  mulFn(`${pre}_mul`, condSub);
  if (unitLow) {
    mulFn(`${pre}_mul_lazy`, rawStore);
    mulFn(`${pre}_muladd_lazy`, condSub2, true);
    o.push(genDot(pre, pl, lay, rawStore, `${pre}_dot_lazy`), genSqr(pre, pl, lay, rawStore, `${pre}_sqr_lazy`));
    // a + b (< 2m + m) back below 2m.
    addFn(`${pre}_add_lazy`, condSub2);
  }

  if (unitLow) o.push(genDot(pre, pl, lay, condSub), genSqr(pre, pl, lay, condSub));

  addFn(`${pre}_add`, condSub);

  o.push(`export function ${pre}_sub(out: usize, a: usize, b: usize): void {`);
  o.push("  " + ld("x", "a"));
  o.push("  " + ld("y", "b"));
  const sb: string[] = ["let d: i64 = 0;"];
  for (let k = 0; k < n; k++) sb.push(`d += <i64>x${k} - <i64>y${k}; const r${k}: u64 = <u64>d & ${MASK}; d >>= ${W};`);
  sb.push("const addm: u64 = <u64>d;"); // all ones when a < b: add m back
  sb.push("let c: u64 = 0;");
  for (let k = 0; k < n; k++)
    sb.push(`c += r${k} + (${pl[k]} & addm); store<u32>(out, <u32>(c & ${MASK}), ${4 * k}); c >>= ${W};`);
  o.push("  " + sb.join("\n  "));
  o.push("}");

  o.push(`export function ${pre}_eq(a: usize, b: usize): bool {`);
  o.push(`  let d: u32 = 0;`);
  for (let k = 0; k < n; k++) o.push(`  d |= load<u32>(a, ${4 * k}) ^ load<u32>(b, ${4 * k});`);
  o.push("  return d == 0;");
  o.push("}");

  o.push(`export function ${pre}_is_zero(a: usize): bool {`);
  o.push(`  let d: u32 = 0;`);
  for (let k = 0; k < n; k++) o.push(`  d |= load<u32>(a, ${4 * k});`);
  o.push("  return d == 0;");
  o.push("}");

  o.push(`@inline export function ${pre}_copy(out: usize, a: usize): void { memory.copy(out, a, ${4 * n}); }`);

  // out = mask ? a : out, with mask all-ones or zero: the constant-time table lookup.
  o.push(`export function ${pre}_cmov(out: usize, a: usize, mask: u32): void {`);
  for (let k = 0; k < n; k++)
    o.push(`  store<u32>(out, (load<u32>(out, ${4 * k}) & ~mask) | (load<u32>(a, ${4 * k}) & mask), ${4 * k});`);
  o.push("}");

  // 256-bit little-endian bytes <-> limbs (no reduction: callers pass canonical values or values < R).
  o.push(`export function ${pre}_from_u256(out: usize, src: usize): void {`);
  o.push(
    "  const w0 = load<u64>(src, 0); const w1 = load<u64>(src, 8); const w2 = load<u64>(src, 16); const w3 = load<u64>(src, 24);",
  );
  for (let k = 0; k < n; k++) {
    const bit = W * k,
      wi = bit >> 6,
      off = bit & 63;
    let e = `(w${wi} >> ${off})`;
    if (off > 64 - W && wi + 1 < 4) e = `(${e} | (w${wi + 1} << ${64 - off}))`;
    o.push(`  store<u32>(out, <u32>(${wi < 4 ? e : "0"} & ${MASK}), ${4 * k});`);
  }
  o.push("}");
  o.push(`export function ${pre}_to_u256(dst: usize, a: usize): void {`);
  o.push("  " + ld("x", "a"));
  for (let w = 0; w < 4; w++) {
    const parts: string[] = [];
    for (let k = 0; k < n; k++) {
      const lo = W * k,
        hi = lo + W;
      if (hi <= 64 * w || lo >= 64 * (w + 1)) continue;
      const sh = lo - 64 * w;
      parts.push(sh >= 0 ? `(x${k} << ${sh})` : `(x${k} >> ${-sh})`);
    }
    o.push(`  store<u64>(dst, ${parts.join(" | ")}, ${8 * w});`);
  }
  o.push("}");

  const c = (name: string, v: bigint) =>
    `export const ${pre.toUpperCase()}_${name}: usize = memory.data<u32>([${limbs(v, lay).join(", ")}]);`;
  o.push(
    `export const ${pre.toUpperCase()}_PM2: usize = memory.data<u32>([${Array.from({ length: 8 }, (_, i) => Number(((m - 2n) >> BigInt(32 * i)) & 0xffffffffn)).join(", ")}]);`,
  );
  o.push(c("ONE", toMont(1n, m, lay)));
  o.push(c("R2", mod(R * R, m)));
  o.push(c("RAW_ONE", 1n));
  // (2^256 · R^2) mod m: Montgomery-multiplying the high half of a 512-bit number by this gives hi·2^256·R mod m.
  o.push(c("R2_SHL256", mod((1n << 256n) * R * R, m)));
  return o.join("\n") + "\n";
}

/**
 * `${pre}_dot(out, a, sa, b, sb, k)` = Σ_{i<k} a[i·sa]·b[i·sb] (Montgomery), with one reduction for the whole sum:
 * the products accumulate unreduced in 2n-1 columns (k ≤ 17 keeps them below 2^64 with 28-bit limbs). This is
 * Poseidon's matrix-vector product, where it halves the work of k separate multiplications and additions.
 */
function genDot(
  pre: string,
  pl: number[],
  { n, w }: Layout,
  condSub: (out: string) => string,
  name = `${pre}_dot`,
): string {
  const o: string[] = [];
  o.push(`export function ${name}(out: usize, a: usize, sa: usize, b: usize, sb: usize, k: i32): void {`);
  o.push("  " + Array.from({ length: 2 * n }, (_, c) => `let c${c}: u64 = 0;`).join(" "));
  o.push("  for (let i = 0; i < k; i++) {");
  o.push("    " + Array.from({ length: n }, (_, j) => `const x${j}: u64 = <u64>load<u32>(a, ${4 * j});`).join(" "));
  for (let j = 0; j < n; j++) {
    const row: string[] = [`const y${j}: u64 = <u64>load<u32>(b, ${4 * j});`];
    for (let i = 0; i < n; i++) row.push(`c${i + j} += x${i} * y${j};`);
    o.push("    " + row.join(" "));
  }
  o.push("    a += sa; b += sb;");
  o.push("  }");
  o.push(redc(pl, { n, w }, condSub));
  o.push("}");
  return o.join("\n") + "\n";
}

/** Montgomery reduction of 2n columns c0..c(2n-1) (p ≡ 1 mod 2^w) into `out`, branch-free. */
function redc(pl: number[], { n, w }: Layout, condSub: (out: string) => string): string {
  const mask = (1n << BigInt(w)) - 1n;
  const o: string[] = [];
  o.push("  let q: u64 = 0;");
  for (let i = 0; i < n; i++) {
    const row = [`q = (0 - c${i}) & ${mask}; c${i} += q; c${i + 1} += (c${i} >> ${w}) + q * ${pl[1]};`];
    for (let j = 2; j < n; j++) row.push(`c${i + j} += q * ${pl[j]};`);
    o.push("  " + row.join(" "));
  }
  const cr: string[] = ["let cc: u64 = 0;"];
  for (let k = 0; k < n; k++) cr.push(`cc += c${n + k}; const r${k}: u64 = cc & ${mask}; cc >>= ${w};`);
  o.push("  " + cr.join(" "));
  o.push("  " + condSub("out"));
  return o.join("\n");
}

/** `${pre}_sqr(out, a)`: squaring with each cross product computed once (2·a_i·a_j), then one reduction. */
function genSqr(pre: string, pl: number[], lay: Layout, condSub: (out: string) => string, name = `${pre}_sqr`): string {
  const { n } = lay;
  const o: string[] = [];
  o.push(`export function ${name}(out: usize, a: usize): void {`);
  o.push("  " + Array.from({ length: n }, (_, j) => `const x${j}: u64 = <u64>load<u32>(a, ${4 * j});`).join(" "));
  o.push("  " + Array.from({ length: n - 1 }, (_, j) => `const d${j}: u64 = x${j} << 1;`).join(" "));
  for (let k = 0; k < 2 * n; k++) {
    const terms: string[] = [];
    for (let i = 0; i < n; i++) {
      const j = k - i;
      if (j < i || j >= n) continue;
      terms.push(i === j ? `x${i} * x${i}` : `d${i} * x${j}`);
    }
    o.push(`  let c${k}: u64 = ${terms.length ? terms.join(" + ") : "0"};`);
  }
  o.push(redc(pl, lay, condSub));
  o.push("}");
  return o.join("\n") + "\n";
}

interface PoseidonOpt {
  C: string[][];
  S: string[][];
  M: string[][][];
  P: string[][][];
}

const N_ROUNDS_P = [56, 57, 56, 60, 60, 63, 64, 63, 60, 66, 60, 65, 70, 60, 64, 68];

/** Poseidon tables for t = 2..17 in one data segment, plus a per-t index (element offsets, partial round count). */
export function genPoseidon(opt: PoseidonOpt): string {
  const data: number[] = [];
  const index: number[] = [];
  // Every element takes FE_BYTES / 4 words so element i sits at POS_DATA + i·FE_BYTES.
  const pad = Array<number>(FE_BYTES / 4 - FP_LAYOUT.n).fill(0);
  const push = (hex: string) => data.push(...limbs(toMont(BigInt(hex), P)), ...pad);
  for (let t = 2; t <= 17; t++) {
    const i = t - 2;
    const at = () => data.length / (FE_BYTES / 4);
    const offC = at();
    opt.C[i]!.forEach(push);
    const offS = at();
    opt.S[i]!.forEach(push);
    // Stored transposed so row i of the stored matrix is the column circomlibjs sums over: new[i] = Σ_j M[j][i]·s[j].
    const offM = at();
    for (let r = 0; r < t; r++) for (let c = 0; c < t; c++) push(opt.M[i]![c]![r]!);
    const offP = at();
    for (let r = 0; r < t; r++) for (let c = 0; c < t; c++) push(opt.P[i]![c]![r]!);
    index.push(offC, offS, offM, offP, N_ROUNDS_P[i]!);
  }
  return [
    `// Poseidon (circomlib parameters, circomlibjs poseidon_constants_opt) for t = 2..17, Montgomery form, ${FE_BYTES} bytes each.`,
    `export const POS_DATA: usize = memory.data<u32>([${data.join(",")}]);`,
    `// per t (from 2): offset of C, S, M (transposed), P (transposed) in elements, then the partial round count`,
    `export const POS_INDEX: usize = memory.data<u32>([${index.join(",")}]);`,
    "",
  ].join("\n");
}

/** Header every generated file carries. */
export const HEADER = "// GENERATED by scripts/build-crypto.ts (device-sdk/crypto/codegen.ts). Do not edit.\n";
