/**
 * The JS reference EdDSA-Poseidon backend (circomlibjs): slow (~45 verifications/s per core) but the definition
 * every faster backend must match bit for bit. Build once (async: circomlibjs builds its field tables), then use
 * the synchronous methods.
 */
import type { EddsaBackend, PublicKey, Signature, VerifyItem } from "./eddsa-api.ts";
import { SNARK_FIELD } from "./field.ts";

/** Order of the BabyJubJub prime-order subgroup; a signature's S must be below it. */
export const SUBGROUP_ORDER = 2736030358979909402780800718157159386076813972158567259200215660948447373041n;

type F = { e(x: bigint): unknown; toObject(x: unknown): bigint };
interface CircomEddsa {
  babyJub: { F: F };
  prv2pub(prv: Uint8Array): [unknown, unknown];
  signPoseidon(prv: Uint8Array, msg: unknown): { R8: [unknown, unknown]; S: bigint };
  verifyPoseidon(msg: unknown, sig: { R8: [unknown, unknown]; S: bigint }, A: [unknown, unknown]): boolean;
}
type CircomPoseidon = ((inputs: bigint[]) => unknown) & { F: F };

const inField = (x: bigint) => typeof x === "bigint" && x >= 0n && x < SNARK_FIELD;

let building: Promise<EddsaBackend> | undefined;

/** The circomlibjs backend (memoised: circomlibjs' build is slow and its tables are large). */
export function buildJsBackend(): Promise<EddsaBackend> {
  building ??= (async () => {
    // circomlibjs ships no types; the shapes we use are declared above.
    const spec = "circomlibjs"; // untyped package: a variable specifier keeps tsc from demanding declarations
    const lib = (await import(spec)) as {
      buildEddsa(): Promise<CircomEddsa>;
      buildPoseidon(): Promise<CircomPoseidon>;
    };
    const [eddsa, poseidon] = await Promise.all([lib.buildEddsa(), lib.buildPoseidon()]);
    return makeBackend(eddsa, poseidon);
  })();
  return building;
}

function makeBackend(eddsa: CircomEddsa, poseidon: CircomPoseidon): EddsaBackend {
  const F = eddsa.babyJub.F;
  const verify = ({ msg, sig, publicKey }: VerifyItem): boolean => {
    // circomlibjs reduces coordinates modulo p silently; a non-canonical encoding must not verify.
    if (!inField(msg) || !inField(sig.R8x) || !inField(sig.R8y) || !inField(publicKey.x) || !inField(publicKey.y))
      return false;
    if (typeof sig.S !== "bigint" || sig.S < 0n || sig.S >= SUBGROUP_ORDER) return false;
    try {
      return eddsa.verifyPoseidon(F.e(msg), { R8: [F.e(sig.R8x), F.e(sig.R8y)], S: sig.S }, [
        F.e(publicKey.x),
        F.e(publicKey.y),
      ]);
    } catch {
      return false;
    }
  };
  return {
    name: "circomlibjs",
    publicKey(privateKey: Uint8Array): PublicKey {
      const [x, y] = eddsa.prv2pub(privateKey);
      return { x: F.toObject(x), y: F.toObject(y) };
    },
    sign(privateKey: Uint8Array, msg: bigint): Signature {
      if (!inField(msg)) throw new RangeError(`message ${msg} is not a field element`);
      const s = eddsa.signPoseidon(privateKey, F.e(msg));
      return { R8x: F.toObject(s.R8[0]), R8y: F.toObject(s.R8[1]), S: s.S };
    },
    verify,
    verifyBatch: (items) => items.map(verify),
    poseidon(inputs: readonly bigint[]): bigint {
      if (inputs.length < 1 || inputs.length > 16)
        throw new RangeError(`Poseidon takes 1 to 16 inputs, got ${inputs.length}`);
      return poseidon.F.toObject(poseidon([...inputs]));
    },
  };
}
