/**
 * The EdDSA-Poseidon (BabyJubJub) interface every layer signs and verifies through.
 * Backends: the pure-JS reference (circomlibjs, slow: ~45 verifications/s) and the Wasm one from device-sdk/crypto/.
 * Must be bit-exact with circomlib's EdDSAPoseidonVerifier circuit: keys are 32 bytes, the scalar is derived with
 * blake512 + pruning as circomlibjs does, msg is one field element, signatures are { R8x, R8y, S }.
 */
export interface PublicKey {
  x: bigint;
  y: bigint;
}

export interface Signature {
  R8x: bigint;
  R8y: bigint;
  S: bigint;
}

export interface VerifyItem {
  msg: bigint;
  sig: Signature;
  publicKey: PublicKey;
}

export interface EddsaBackend {
  readonly name: string;
  publicKey(privateKey: Uint8Array): PublicKey;
  sign(privateKey: Uint8Array, msg: bigint): Signature;
  /** false (never a throw) for any invalid signature or key, including points off the curve and S >= subgroup order. */
  verify(item: VerifyItem): boolean;
  /** One boolean per item, in order; a batch backend checks all at once and falls back to find the bad ones. */
  verifyBatch(items: readonly VerifyItem[]): boolean[];
  /** Poseidon with circomlib parameters, 1 to 16 inputs. */
  poseidon(inputs: readonly bigint[]): bigint;
}
