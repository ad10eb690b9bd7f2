/**
 * Groth16 proving with the native addon: same inputs (.zkey, .wtns) and same output shape as snarkjs.groth16.prove,
 * so callers and verifiers cannot tell the backends apart. Blinding factors r, s come from crypto.randomBytes (64 bytes
 * reduced mod r each, so their bias is negligible).
 */
import { readFileSync, statSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { readZkey, readWtns, type Groth16Key } from "./files.ts";
import { fromLe, le32, type NativeAddon } from "./loader.ts";
import { ProverInputError } from "../errors.ts";
import { R } from "../setup/field.ts";

export interface SnarkjsProof {
  pi_a: string[];
  pi_b: string[][];
  pi_c: string[];
  protocol: "groth16";
  curve: "bn128";
}

/**
 * Parsed proving keys by path, kept while they fit in a byte budget (a key costs its .zkey's size: the sections are
 * views into the file's bytes; K=16 applet keys 14–17 MB, K=64 47–54 MB). Least recently used first out. A key
 * rebuilt at the same path (another size or mtime) is read again. Budget: MFI_PROVER_KEY_CACHE_MB (default 256) per
 * proving process; a single key larger than the budget is still used, just not kept.
 */
const keys = new Map<string, { key: Groth16Key; bytes: number; stamp: string }>();
const counters = { reads: 0, hits: 0 };
export const KEY_CACHE_BYTES = Math.max(0, Number(process.env.MFI_PROVER_KEY_CACHE_MB ?? 256)) * 1024 * 1024;

/** How often keys were read from disk and found cached in this process, and what the cache holds. */
export function keyCacheStats(): { reads: number; hits: number; keys: number; bytes: number; budget: number } {
  let bytes = 0;
  for (const k of keys.values()) bytes += k.bytes;
  return { ...counters, keys: keys.size, bytes, budget: KEY_CACHE_BYTES };
}

/** Runs `f` without counting its cache hits (a warm-up's dry run is not a proof). */
export async function uncounted<T>(f: () => Promise<T>): Promise<T> {
  const hits = counters.hits;
  try {
    return await f();
  } finally {
    counters.hits = hits;
  }
}

/** The key at `path`, from the cache when its file is unchanged; read (and kept, within the budget) otherwise. */
export function keyOf(zkey: string | Uint8Array): Groth16Key {
  if (typeof zkey !== "string") return readZkey(zkey);
  const st = statSync(zkey);
  const stamp = `${st.size}:${st.mtimeMs}`;
  const hit = keys.get(zkey);
  if (hit && hit.stamp === stamp) {
    counters.hits++;
    keys.delete(zkey);
    keys.set(zkey, hit);
    return hit.key;
  }
  counters.reads++;
  const key = readZkey(readFileSync(zkey));
  keys.delete(zkey);
  keys.set(zkey, { key, bytes: st.size, stamp });
  let total = 0;
  for (const k of keys.values()) total += k.bytes;
  for (const [p, k] of keys) {
    if (total <= KEY_CACHE_BYTES) break;
    keys.delete(p);
    total -= k.bytes;
  }
  return key;
}

/**
 * Reads the key into the cache ahead of its first proof (prover pool warm-up) if it fits beside what is already
 * cached: warming never evicts, so the keys asked for first (the smallest K) stay. False: it did not fit.
 */
export function preloadKey(zkey: string): boolean {
  const st = statSync(zkey);
  const hit = keys.get(zkey);
  if (hit && hit.stamp === `${st.size}:${st.mtimeMs}`) return true;
  if (keyCacheStats().bytes + st.size > KEY_CACHE_BYTES) return false;
  keyOf(zkey);
  return true;
}

function scalar(): Uint8Array {
  return le32(fromLe(randomBytes(64)) % R);
}

export function proveNative(opts: {
  addon: NativeAddon;
  zkey: string | Uint8Array;
  /** The .wtns file's bytes (snarkjs.wtns.calculate with { type: "mem" } leaves them in `.data`). */
  wtns: Uint8Array;
  threads?: number;
  /** Fixed blinding (tests only): r, s. */
  blinding?: [bigint, bigint];
}): { proof: SnarkjsProof; publicSignals: string[] } {
  const key = keyOf(opts.zkey);
  const w = readWtns(opts.wtns);
  if (w.length / 32 !== key.nVars)
    throw new ProverInputError(`the witness has ${w.length / 32} values but the circuit has ${key.nVars} variables`, {
      details: "the witness was computed for another circuit",
    });
  const rs = new Uint8Array(64);
  rs.set(opts.blinding ? le32(opts.blinding[0] % R) : scalar(), 0);
  rs.set(opts.blinding ? le32(opts.blinding[1] % R) : scalar(), 32);
  let out: Uint8Array;
  try {
    out = opts.addon.prove(
      key.header,
      key.coeffs,
      w,
      key.A,
      key.B1,
      key.B2,
      key.C,
      key.H,
      key.nPublic,
      key.domainSize,
      rs,
      opts.threads ?? 0,
    );
  } catch (e) {
    throw new ProverInputError(`the native prover refused the key or witness: ${(e as Error).message}`, {
      details: "the .zkey is damaged or not snarkjs's Groth16 layout; rebuild it",
      cause: e,
    });
  }
  const n = (i: number) => fromLe(out.subarray(32 * i, 32 * i + 32)).toString();
  const g1 = (i: number) => (n(i) === "0" && n(i + 1) === "0" ? ["0", "1", "0"] : [n(i), n(i + 1), "1"]);
  const publicSignals: string[] = [];
  for (let i = 1; i <= key.nPublic; i++) publicSignals.push(fromLe(w.subarray(32 * i, 32 * i + 32)).toString());
  return {
    proof: {
      pi_a: g1(0),
      pi_b: [
        [n(2), n(3)],
        [n(4), n(5)],
        ["1", "0"],
      ],
      pi_c: g1(6),
      protocol: "groth16",
      curve: "bn128",
    },
    publicSignals,
  };
}
