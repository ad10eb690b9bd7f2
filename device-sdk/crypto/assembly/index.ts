// Entry of the crypto Wasm module: EdDSA-Poseidon over BabyJubJub (circomlib-exact) and Poseidon.
// JS talks to it through fixed buffers (io_ptr, key_ptr, status_ptr) holding 32-byte little-endian integers,
// so one call does a whole hash, signature, verification or batch: no crossing per field operation.
import { fp_mul, fp_copy, fp_from_u256, fp_to_u256, fp_is_zero, FP_R2, FP_RAW_ONE } from "./generated/fp";
import { fl_mul, fl_add, fl_from_u256, fl_to_u256, FL_R2, FL_RAW_ONE, FL_R2_SHL256 } from "./generated/fl";
import { STATE, poseidonPerm } from "./poseidon";
import { ISO_C, ISO_C_INV } from "./generated/curve";
import { blake512 } from "./blake512";
import { FE, combInit, combMulVar, combMulCT, onCurve, ptFromAffine, ptToAffine, ptDbl } from "./curve";
import { WNAF_LEN, TABLE, BASE_W, wnaf, buildTable, straus, strausVerify, baseTableInit, ptEq, ptEqAffine } from "./msm";
import { subgroupCheck } from "./torsion";

/** Most signatures per verify_batch call. */
export const MAX_BATCH: i32 = 256;
/** Bytes per batch item: Ax, Ay, R8x, R8y, msg, S, z (the random 128-bit coefficient), 32 bytes each. */
export const ITEM: i32 = 224;

const IO = memory.data(256 * 224);
const STATUS = memory.data(256);
const KEY = memory.data(128);
const TABLES = memory.data(2 * 256 * 8 * 160);
const NAFS = memory.data(2 * 256 * 257);
const LENS = memory.data(2 * 256 * 4);
/** Per item: index of the first item with the same public key (written by the caller). */
const GROUP = memory.data(256 * 4);
const SLOT = memory.data(256 * 4);
const ASLOTS = memory.data(256 * 4);
const USUM = memory.data(256 * 40);
/** Single verifications inside a batch use their own table and digits, not the batch's. */
const ONE_TABLE = memory.data(8 * 160);
const ONE_NAFS = memory.data(2 * 257);

export function io_ptr(): usize { return IO; }
export function status_ptr(): usize { return STATUS; }
export function key_ptr(): usize { return KEY; }
export function group_ptr(): usize { return GROUP; }

let ready = false;
/** Builds the fixed-base table (once per instance). */
export function init(): void {
  if (ready) return;
  combInit();
  baseTableInit();
  ready = true;
}

function loadFe(dst: usize, src: usize): void {
  fp_from_u256(dst, src);
  fp_mul(dst, dst, FP_R2);
}

function storeFe(dst: usize, fe: usize): void {
  const t = memory.data(40);
  fp_mul(t, fe, FP_RAW_ONE);
  fp_to_u256(dst, t);
}

/** Poseidon of n inputs (1..16) at IO; the hash replaces the first input. */
export function poseidon(n: i32): void {
  memory.fill(STATE, 0, FE);
  for (let i = 0; i < n; i++) loadFe(STATE + <usize>(i + 1) * FE, IO + <usize>i * 32);
  poseidonPerm(<usize>n + 1);
  storeFe(IO, STATE);
}

const AX = memory.data(40), AY = memory.data(40), RX = memory.data(40), RY = memory.data(40), MSG = memory.data(40);
// u-coordinates on the a = -1 model of the curve (u = √-a · x).
const AU = memory.data(40), RU = memory.data(40);
const HB = memory.data(40);
const P8 = memory.data(160);

/** Checks what does not need the scalar multiplications (curve membership, 8A ≠ 0) and hashes h into HB. */
function prepare(rec: usize): bool {
  loadFe(AX, rec);
  loadFe(AY, rec + 32);
  loadFe(RX, rec + 64);
  loadFe(RY, rec + 96);
  loadFe(MSG, rec + 128);
  fp_mul(AU, AX, ISO_C);
  fp_mul(RU, RX, ISO_C);
  if (!onCurve(AU, AY) || !onCurve(RU, RY)) return false;
  // circomlib's verifier doubles A three times and rejects when that x is 0 (A of small order).
  ptFromAffine(P8, AU, AY);
  ptDbl(P8, P8, false);
  ptDbl(P8, P8, false);
  ptDbl(P8, P8, true);
  if (fp_is_zero(P8)) return false;
  challengeHash(HB);
  return true;
}

/** The EdDSA-Poseidon challenge h = Poseidon(R8x, R8y, Ax, Ay, msg) of the points in RX/RY, AX/AY and MSG, stored at out. */
function challengeHash(out: usize): void {
  memory.fill(STATE, 0, FE);
  fp_copy(STATE + FE, RX);
  fp_copy(STATE + 2 * FE, RY);
  fp_copy(STATE + 3 * FE, AX);
  fp_copy(STATE + 4 * FE, AY);
  fp_copy(STATE + 5 * FE, MSG);
  poseidonPerm(6);
  storeFe(out, STATE);
}

/** 1 when S·Base8 == R8 + h·(8A) for the item at rec (S < l and coordinates < p are checked by the caller). */
function verifyAt(rec: usize, tables: usize, nafs: usize): i32 {
  if (!prepare(rec)) return 0;
  const acc = memory.data(160);
  const lenH = wnaf(nafs, HB, 5);
  const lenS = wnaf(nafs + WNAF_LEN, rec + 160, BASE_W);
  buildTable(tables, P8);
  // S·Base8 - h·8A must be R8 exactly (no cofactor clearing, as in the circuit).
  strausVerify(acc, tables, nafs, lenH, nafs + WNAF_LEN, lenS);
  return ptEqAffine(acc, RU, RY) ? 1 : 0;
}

/** The item at IO, verified alone. */
export function verify(): i32 {
  return verifyAt(IO, TABLES, NAFS);
}

/**
 * Random linear combination of n items: (Σ z·S)·Base8 == Σ z·R8 + Σ_keys (Σ z·h mod l)·8A. Items that share a
 * public key (GROUP[i] = index of the first item with that key) share one 8A term, so a device's many signatures
 * cost little more than their R8 terms. Writes 1/0 per item to STATUS for the checks done one by one; returns 1
 * when the combined equation holds over the items that passed them. Sound against the exact (cofactorless) check
 * of the circuit because every R8 entering the combination is first shown to lie in the prime-order subgroup
 * (torsion.ts); without that, a key holder could craft two signatures whose R8 small-order parts cancel.
 */
export function verify_batch(n: i32): i32 {
  const zl = memory.data(40), tl = memory.data(40), sums = memory.data(40), scal = memory.data(40);
  const r8p = memory.data(160), acc = memory.data(160), left = memory.data(160);
  memory.fill(sums, 0, FE);
  memory.fill(SLOT, 0xff, 256 * 4);
  let m = 0, na = 0;
  for (let i = 0; i < n; i++) {
    const rec = IO + <usize>i * ITEM;
    if (!prepare(rec)) {
      store<u8>(STATUS + <usize>i, 0);
      continue;
    }
    // R8 outside the prime-order subgroup can never verify alone; such items must not enter the combination,
    // where small-order parts of two of them could cancel (see torsion.ts). The rare points where the test is
    // undefined (small-order R8, e.g. the identity) are settled exactly, on their own.
    const sub = subgroupCheck(RX, RY);
    if (sub != 1) {
      store<u8>(STATUS + <usize>i, sub == 0 ? 0 : <u8>verifyAt(rec, ONE_TABLE, ONE_NAFS));
      continue;
    }
    store<u8>(STATUS + <usize>i, 1);
    fl_from_u256(zl, rec + 192);
    fl_mul(zl, zl, FL_R2);
    fl_from_u256(tl, HB);
    fl_mul(tl, zl, tl); // z·h mod l
    const g = <usize>load<i32>(GROUP + (<usize>i << 2));
    let slot = load<i32>(SLOT + (g << 2));
    if (slot < 0) {
      slot = m++;
      store<i32>(SLOT + (g << 2), slot);
      store<i32>(ASLOTS + (<usize>na << 2), slot);
      na++;
      buildTable(TABLES + <usize>slot * TABLE, P8);
      memory.copy(USUM + <usize>slot * FE, tl, FE);
    } else {
      fl_add(USUM + <usize>slot * FE, USUM + <usize>slot * FE, tl);
    }
    const k = <usize>(m++);
    store<i32>(LENS + (k << 2), wnaf(NAFS + k * WNAF_LEN, rec + 192, 5));
    ptFromAffine(r8p, RU, RY);
    buildTable(TABLES + k * TABLE, r8p);
    fl_from_u256(tl, rec + 160);
    fl_mul(tl, zl, tl);
    fl_add(sums, sums, tl);
  }
  if (m == 0) return 1;
  for (let j = 0; j < na; j++) {
    const k = <usize>load<i32>(ASLOTS + (<usize>j << 2));
    fl_to_u256(scal, USUM + k * FE);
    store<i32>(LENS + (k << 2), wnaf(NAFS + k * WNAF_LEN, scal, 5));
  }
  straus(acc, m, TABLES, NAFS, LENS);
  fl_to_u256(scal, sums);
  combMulVar(left, scal);
  return ptEq(left, acc) ? 1 : 0;
}

const H = memory.data(64);
const S3 = memory.data(40);

/** H = pruned BLAKE-512 of the key at KEY; S3 = (s >> 3), the public key's scalar. */
function deriveScalar(len: i32): void {
  blake512(H, KEY, len);
  store<u8>(H, load<u8>(H) & 0xf8);
  store<u8>(H + 31, (load<u8>(H + 31) & 0x7f) | 0x40);
  for (let i: usize = 0; i < 4; i++) {
    const lo = load<u64>(H + i * 8) >> 3;
    const hi = i < 3 ? load<u64>(H + (i + 1) * 8) << 61 : 0;
    store<u64>(S3 + i * 8, lo | hi);
  }
}

/** Public key (Ax, Ay) of the private key at KEY[0..len) into IO[0..64). */
export function public_key(len: i32): void {
  const pa = memory.data(160);
  deriveScalar(len);
  combMulCT(pa, S3);
  ptToAffine(AU, AY, pa);
  fp_mul(AX, AU, ISO_C_INV);
  storeFe(IO, AX);
  storeFe(IO + 32, AY);
}

/** circomlibjs signPoseidon: key at KEY[0..len), msg at IO+128; writes R8x, R8y, S to IO[0..96). Constant time. */
export function sign(len: i32): void {
  const pa = memory.data(160), pr = memory.data(160), cb = memory.data(64), rb = memory.data(64);
  const t1 = memory.data(40), t2 = memory.data(40), rs = memory.data(40), rbytes = memory.data(40), hb = memory.data(40);
  deriveScalar(len);
  combMulCT(pa, S3);
  ptToAffine(AU, AY, pa);
  fp_mul(AX, AU, ISO_C_INV);
  // r = BLAKE-512(h[32..64) ‖ msg) mod l, reduced as lo·R + hi·2^256·R in Montgomery form, then taken out of it.
  memory.copy(cb, H + 32, 32);
  memory.copy(cb + 32, IO + 128, 32);
  blake512(rb, cb, 64);
  fl_from_u256(t1, rb);
  fl_from_u256(t2, rb + 32);
  fl_mul(t1, t1, FL_R2);
  fl_mul(t2, t2, FL_R2_SHL256);
  fl_add(t1, t1, t2);
  fl_mul(rs, t1, FL_RAW_ONE);
  fl_to_u256(rbytes, rs);
  combMulCT(pr, rbytes);
  ptToAffine(RU, RY, pr);
  fp_mul(RX, RU, ISO_C_INV);
  loadFe(MSG, IO + 128);
  challengeHash(hb);
  // S = r + h·s mod l with the full pruned s.
  fl_from_u256(t1, hb);
  fl_mul(t1, t1, FL_R2);
  fl_from_u256(t2, H);
  fl_mul(t1, t1, t2);
  fl_add(t1, t1, rs);
  storeFe(IO, RX);
  storeFe(IO + 32, RY);
  fl_to_u256(IO + 64, t1);
}

export { probe_mul, probe_sqr, probe_perm, probe_mul_lazy } from "./probe";
