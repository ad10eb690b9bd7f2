/**
 * The one error base of every machinefi layer (viem style): `shortMessage` says what went wrong, `details` the raw
 * cause in words, `metaMessages` what to do next, `docsPath` where to read more, `cause` the underlying error.
 * Each layer extends it once (RuntimeBaseError, SdkError, CryptoError, CircuitsError, ContractsError, GatewayError)
 * and names its errors below that, so callers can catch a whole layer or one error by class.
 *
 * It lives in core/ (no other layer, no npm package, no Node built-in) so every layer, the portable device SDK
 * included (browsers, Deno, Bun), imports it without loading anything else.
 */
export interface BaseErrorOptions {
  details?: string;
  docsPath?: string;
  metaMessages?: string[];
  cause?: unknown;
}

export class BaseError extends Error {
  override name = "BaseError";
  readonly shortMessage: string;
  readonly details?: string;
  readonly docsPath?: string;
  readonly metaMessages?: string[];

  constructor(shortMessage: string, opts: BaseErrorOptions = {}) {
    super(BaseError.format(shortMessage, opts), opts.cause === undefined ? undefined : { cause: opts.cause });
    this.shortMessage = shortMessage;
    this.details = opts.details;
    this.docsPath = opts.docsPath;
    this.metaMessages = opts.metaMessages;
  }

  /** The full message: the short message, what to do, details and docs, one per line. */
  static format(shortMessage: string, opts: BaseErrorOptions): string {
    const lines = [shortMessage, ...(opts.metaMessages ?? [])];
    if (opts.details) lines.push(`Details: ${opts.details}`);
    if (opts.docsPath) lines.push(`Docs: ${opts.docsPath}`);
    return lines.join("\n");
  }

  /**
   * The first error in this error's cause chain (itself included) for which `fn` is true, or without `fn` the deepest
   * cause. Catch a layer's error and still find what went wrong underneath: `err.walk((e) => e instanceof X)`.
   */
  walk(fn?: (err: unknown) => boolean): unknown {
    let err: unknown = this;
    for (let depth = 0; depth < 100; depth++) {
      if (fn?.(err)) return err;
      const cause = err instanceof Error ? err.cause : undefined;
      if (cause === undefined || cause === null) return fn ? null : err;
      err = cause;
    }
    return fn ? null : err;
  }

  /** A plain object for `--json` output, worker messages and logs. */
  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      shortMessage: this.shortMessage,
      details: this.details,
      docsPath: this.docsPath,
      metaMessages: this.metaMessages,
    };
  }
}
