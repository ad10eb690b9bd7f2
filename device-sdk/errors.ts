/** The device SDK's one error family (viem style): a short message, details, what to do, and the cause. */
import { BaseError, type BaseErrorOptions } from "../core/index.ts";

export { BaseError, type BaseErrorOptions } from "../core/index.ts";
export type SdkErrorOptions = BaseErrorOptions;

export class SdkError extends BaseError {
  override name = "SdkError";
}

/** The private key file or bytes cannot be a device key. */
export class InvalidKeyError extends SdkError {
  override name = "InvalidKeyError";
}

/** The gateway refused a request for a reason retrying will not fix (4xx other than 408/429). */
export class GatewayRejectedError extends SdkError {
  override name = "GatewayRejectedError";
  constructor(
    readonly status: number,
    readonly problem: { type?: string; title?: string; detail?: string; [k: string]: unknown },
    opts: SdkErrorOptions = {},
  ) {
    super(`gateway rejected the request with ${status}: ${problem.title ?? "error"}`, {
      details: problem.detail,
      ...opts,
    });
  }
}

/** The gateway could not be reached (or kept failing) within the retry budget; the readings stay queued. */
export class GatewayUnavailableError extends SdkError {
  override name = "GatewayUnavailableError";
}
