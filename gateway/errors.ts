/**
 * The gateway's one error family. Every rejection is a GatewayError carrying its HTTP status and RFC 9457 problem
 * type; app.onError turns it into application/problem+json.
 */
import { BaseError, type BaseErrorOptions } from "../core/index.ts";

export interface GatewayErrorOptions extends BaseErrorOptions {
  /** Extra problem members (e.g. expectedSeq for a chain conflict). */
  extensions?: Record<string, unknown>;
  headers?: Record<string, string>;
}

export class GatewayError extends BaseError {
  override name = "GatewayError";
  readonly extensions: Record<string, unknown>;
  readonly headers: Record<string, string>;

  constructor(
    readonly status: number,
    /** Short slug for the problem type, e.g. "chain-conflict". */
    readonly type: string,
    shortMessage: string,
    opts: GatewayErrorOptions = {},
  ) {
    super(shortMessage, opts);
    this.extensions = opts.extensions ?? {};
    this.headers = opts.headers ?? {};
  }

  toProblem(instance?: string): Record<string, unknown> {
    return {
      type: `https://machinefi.dev/problems/${this.type}`,
      title: this.shortMessage,
      status: this.status,
      ...(this.details ? { detail: this.details } : {}),
      ...(instance ? { instance } : {}),
      ...this.extensions,
    };
  }
}

export const badRequest = (msg: string, details?: string, extensions?: Record<string, unknown>) =>
  new GatewayError(400, "bad-request", msg, { details, extensions });
export const unauthorized = (msg: string, details?: string, extensions?: Record<string, unknown>) =>
  new GatewayError(401, "unauthorized", msg, { details, extensions });
export const notFound = (msg: string, details?: string) => new GatewayError(404, "not-found", msg, { details });
export const tooLarge = (msg: string, details?: string) => new GatewayError(413, "too-large", msg, { details });
export const unprocessable = (msg: string, details?: string, extensions?: Record<string, unknown>) =>
  new GatewayError(422, "unprocessable", msg, { details, extensions });

/** 409: the reading does not extend the stored chain; says where the chain stands. */
export function chainConflict(details: string, expected: { seq: bigint; hash: bigint }, index?: number): GatewayError {
  return new GatewayError(409, "chain-conflict", "the reading does not extend the device's chain", {
    details: `${details}; resend from seq ${expected.seq} with prev ${expected.hash}`,
    extensions: {
      expectedSeq: expected.seq.toString(),
      expectedPrev: expected.hash.toString(),
      ...(index === undefined ? {} : { index }),
    },
  });
}
