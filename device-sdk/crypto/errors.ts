/** The crypto layer's one error class (viem style): what went wrong, what to do, and the cause when there is one. */
import { BaseError } from "../../core/index.ts";

export class CryptoError extends BaseError {
  override name = "CryptoError";
}

/** The Wasm module is missing or failed to load. */
export class CryptoWasmLoadError extends CryptoError {
  override name = "CryptoWasmLoadError";
}

/** An input is outside what the primitive accepts (not a field element, wrong input count, key length). */
export class CryptoInputError extends CryptoError {
  override name = "CryptoInputError";
}
