/**
 * The Wasm EdDSA-Poseidon backend: same interface and same answers as the circomlibjs reference, 100× faster.
 * Range checks (field elements, S < l, key length) happen here in JS; everything else runs in one Wasm call.
 */
import type { EddsaBackend, PublicKey, Signature, VerifyItem } from "../eddsa-api.ts";
import { SNARK_FIELD } from "../field.ts";
import { CryptoInputError } from "./errors.ts";
import type { CryptoInstance } from "./wasm.ts";

/** BN254 scalar field (BabyJubJub's base field). */
export const P = SNARK_FIELD;
/** Order of BabyJubJub's prime-order subgroup. */
export const L = 2736030358979909402780800718157159386076813972158567259200215660948447373041n;

const inField = (x: unknown): x is bigint => typeof x === "bigint" && x >= 0n && x < P;

/** Why an item cannot be a valid signature before any curve arithmetic, or undefined when it is well formed. */
function malformed(item: VerifyItem): boolean {
  const { msg, sig, publicKey } = item ?? ({} as VerifyItem);
  if (!sig || !publicKey) return true;
  if (!inField(msg) || !inField(sig.R8x) || !inField(sig.R8y) || !inField(publicKey.x) || !inField(publicKey.y))
    return true;
  return typeof sig.S !== "bigint" || sig.S < 0n || sig.S >= L;
}

function checkKey(privateKey: Uint8Array): void {
  if (!(privateKey instanceof Uint8Array) || privateKey.length < 1 || privateKey.length > 111) {
    throw new CryptoInputError("private key must be a Uint8Array of 1 to 111 bytes (32 is the norm)", {
      details: `got ${privateKey instanceof Uint8Array ? `${privateKey.length} bytes` : typeof privateKey}; generate keys with crypto.getRandomValues(new Uint8Array(32)).`,
    });
  }
}

/** Random 128-bit batch coefficients (odd, so never zero), from the platform CSPRNG. */
function coefficients(n: number): BigUint64Array {
  const r = new BigUint64Array(2 * n);
  globalThis.crypto.getRandomValues(r);
  for (let i = 0; i < n; i++) r[2 * i] = r[2 * i]! | 1n;
  return r;
}

export function makeWasmBackend(w: CryptoInstance): EddsaBackend {
  const io = w.io;
  const item = w.itemBytes;

  const putItem = (at: number, it: VerifyItem) => {
    w.put(at, it.publicKey.x);
    w.put(at + 32, it.publicKey.y);
    w.put(at + 64, it.sig.R8x);
    w.put(at + 96, it.sig.R8y);
    w.put(at + 128, it.msg);
    w.put(at + 160, it.sig.S);
  };

  const verify = (it: VerifyItem): boolean => {
    if (malformed(it)) return false;
    putItem(io, it);
    return w.x.verify() === 1;
  };

  /** One Wasm batch over well-formed items; true when every one of them verifies. Writes per-item prechecks to ok. */
  const batchOnce = (items: readonly VerifyItem[], idx: readonly number[], ok: boolean[]): boolean => {
    const z = coefficients(idx.length);
    const u64 = new BigUint64Array(w.x.memory.buffer);
    const group = new Int32Array(w.x.memory.buffer, w.group, idx.length);
    // bigint Map keys compare by value: x finds the candidates, y tells them apart (no string conversions).
    const firstOfKey = new Map<bigint, { y: bigint; j: number }[]>();
    idx.forEach((k, j) => {
      const { x, y } = items[k]!.publicKey;
      const seen = firstOfKey.get(x);
      const first = seen?.find((e) => e.y === y)?.j;
      if (!seen) firstOfKey.set(x, [{ y, j }]);
      else if (first === undefined) seen.push({ y, j });
      group[j] = first ?? j;
      const at = io + j * item;
      putItem(at, items[k]!);
      const zi = (at + 192) >>> 3;
      u64[zi] = z[2 * j]!;
      u64[zi + 1] = z[2 * j + 1]!;
      u64[zi + 2] = 0n;
      u64[zi + 3] = 0n;
    });
    const all = w.x.verify_batch(idx.length) === 1;
    const st = w.bytes();
    let pre = true;
    idx.forEach((k, j) => {
      ok[k] = st[w.status + j] === 1;
      pre &&= ok[k]!;
    });
    return all && pre;
  };

  /** Finds the bad signatures of a failed batch by halving; small groups are checked one by one. */
  const settle = (items: readonly VerifyItem[], idx: number[], ok: boolean[]): void => {
    if (idx.length <= 4) {
      for (const k of idx) ok[k] = verify(items[k]!);
      return;
    }
    const mid = idx.length >> 1;
    for (const half of [idx.slice(0, mid), idx.slice(mid)]) {
      if (!batchOnce(items, half, ok))
        settle(
          items,
          half.filter((k) => ok[k]),
          ok,
        );
    }
  };

  const verifyBatch = (items: readonly VerifyItem[]): boolean[] => {
    const ok = new Array<boolean>(items.length).fill(false);
    const good: number[] = [];
    items.forEach((it, k) => {
      if (!malformed(it)) good.push(k);
    });
    for (let s = 0; s < good.length; s += w.maxBatch) {
      const chunk = good.slice(s, s + w.maxBatch);
      if (chunk.length === 1) ok[chunk[0]!] = verify(items[chunk[0]!]!);
      else if (!batchOnce(items, chunk, ok))
        settle(
          items,
          chunk.filter((k) => ok[k]),
          ok,
        );
    }
    return ok;
  };

  return {
    name: "wasm",
    publicKey(privateKey: Uint8Array): PublicKey {
      checkKey(privateKey);
      w.bytes().set(privateKey, w.key);
      w.x.public_key(privateKey.length);
      return { x: w.get(io), y: w.get(io + 32) };
    },
    sign(privateKey: Uint8Array, msg: bigint): Signature {
      checkKey(privateKey);
      if (!inField(msg))
        throw new CryptoInputError(`message ${String(msg)} is not a field element`, {
          details: "Sign a bigint in [0, p): hash longer data with Poseidon first.",
        });
      w.bytes().set(privateKey, w.key);
      w.put(io + 128, msg);
      w.x.sign(privateKey.length);
      return { R8x: w.get(io), R8y: w.get(io + 32), S: w.get(io + 64) };
    },
    verify,
    verifyBatch,
    poseidon(inputs: readonly bigint[]): bigint {
      if (!Array.isArray(inputs) || inputs.length < 1 || inputs.length > 16) {
        throw new CryptoInputError(
          `Poseidon takes 1 to 16 inputs, got ${Array.isArray(inputs) ? inputs.length : typeof inputs}`,
        );
      }
      for (let i = 0; i < inputs.length; i++) {
        const v = inputs[i];
        if (!inField(v))
          throw new CryptoInputError(`Poseidon input ${i} is not a field element: ${String(v)}`, {
            details: "Reduce values into [0, p) first (device-sdk toField).",
          });
        w.put(io + 32 * i, v);
      }
      w.x.poseidon(inputs.length);
      return w.get(io);
    },
  };
}
