/** The crypto layer's one error class (viem style): what went wrong, what to do, and the cause when there is one. */
export class CryptoError extends Error {
  override name = "CryptoError";
  readonly shortMessage: string;
  readonly details?: string;
  override readonly cause?: unknown;

  constructor(shortMessage: string, opts: { details?: string; cause?: unknown } = {}) {
    super([shortMessage, opts.details].filter(Boolean).join("\n\n"));
    this.shortMessage = shortMessage;
    this.details = opts.details;
    this.cause = opts.cause;
  }
}

/** The Wasm module is missing or failed to load. */
export class CryptoWasmLoadError extends CryptoError {
  override name = "CryptoWasmLoadError";
}

/** An input is outside what the primitive accepts (not a field element, wrong input count, key length). */
export class CryptoInputError extends CryptoError {
  override name = "CryptoInputError";
}
