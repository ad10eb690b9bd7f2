/**
 * The CPU-heavy part of ingest, in one function that runs inline or on a pool worker: hash each reading (its h_seq)
 * and verify every signature present, all signatures of a message in one verifyBatch call.
 */
import { hashReading, type EddsaBackend, type PublicKey, type Reading, type Signature, type VerifyItem } from "../device-sdk/index.ts";

/** A reading to hash, and to verify against publicKey when it carries a signature. */
export interface ReadingCheck {
  reading: Reading;
  signature: Signature | null;
  publicKey: PublicKey;
}

export type CheckItem = VerifyItem | ReadingCheck;
/** For a VerifyItem: whether it verified. For a ReadingCheck: its hash, and whether its signature verified (null: unsigned). */
export type CheckResult = boolean | { hash: bigint; valid: boolean | null };

export function checkItems(backend: EddsaBackend, items: readonly CheckItem[]): CheckResult[] {
  const toVerify: VerifyItem[] = [];
  const at: number[] = [];
  const out: CheckResult[] = items.map((item, i) => {
    if ("reading" in item) {
      const hash = hashReading(item.reading);
      if (item.signature) {
        toVerify.push({ msg: hash, sig: item.signature, publicKey: item.publicKey });
        at.push(i);
      }
      return { hash, valid: null };
    }
    toVerify.push(item);
    at.push(i);
    return false;
  });
  let ok: boolean[];
  try {
    ok = backend.verifyBatch(toVerify);
  } catch {
    // A backend must not throw, but if one does, nothing it was given counts as verified.
    ok = toVerify.map(() => false);
  }
  ok.forEach((v, k) => {
    const i = at[k]!;
    const r = out[i]!;
    out[i] = typeof r === "boolean" ? v : { hash: r.hash, valid: v };
  });
  return out;
}
