/**
 * device-sdk/crypto: EdDSA-Poseidon (BabyJubJub) and Poseidon in Wasm, bit-exact with circomlib.
 *   const backend = await loadWasmBackend();        // EddsaBackend, ~100× the JS libraries
 *   setPoseidon(await loadWasmPoseidon());          // the hash chain on the Wasm Poseidon
 * The module is built by scripts/build-crypto.ts into build/crypto/crypto.wasm.
 */
import type { EddsaBackend } from "../eddsa-api.ts";
import type { PoseidonImpl } from "../chain.ts";
import { makeWasmBackend } from "./backend.ts";
import { CryptoInstance, readWasmBytes } from "./wasm.ts";

export { CryptoError, CryptoInputError, CryptoWasmLoadError } from "./errors.ts";
export { P as FIELD_MODULUS, L as SUBGROUP_ORDER } from "./backend.ts";

let compiled: Promise<WebAssembly.Module> | undefined;

// TS 5.9 types Uint8Array over ArrayBufferLike; WebAssembly accepts any non-shared buffer we read or were handed.
const src = (b: Uint8Array) => b as Uint8Array<ArrayBuffer>;

/** The compiled module (memoised); pass bytes to load it from somewhere other than build/crypto/. */
export function compileCryptoWasm(bytes?: Uint8Array): Promise<WebAssembly.Module> {
  if (bytes) return WebAssembly.compile(src(bytes));
  compiled ??= readWasmBytes().then((b) => WebAssembly.compile(src(b)));
  return compiled;
}

/** A new Wasm backend (its own instance and memory). */
export async function loadWasmBackend(opts: { bytes?: Uint8Array } = {}): Promise<EddsaBackend> {
  return makeWasmBackend(new CryptoInstance(await compileCryptoWasm(opts.bytes)));
}

/** Synchronous variant for callers that already hold the module bytes (e.g. a worker handed them). */
export function loadWasmBackendSync(bytes: Uint8Array): EddsaBackend {
  return makeWasmBackend(new CryptoInstance(new WebAssembly.Module(src(bytes))));
}

/** A PoseidonImpl for device-sdk/chain.ts setPoseidon, backed by the given (or a new) Wasm backend. */
export async function loadWasmPoseidon(backend?: EddsaBackend): Promise<PoseidonImpl> {
  const b = backend ?? (await loadWasmBackend());
  return { hash1: (a) => b.poseidon([a]), hash8: (inputs) => b.poseidon(inputs) };
}
