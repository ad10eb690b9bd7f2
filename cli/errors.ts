/**
 * The CLI's errors and its one table of exit codes (docs/cli.md): 0 ok, 1 a refusal or failure of the thing asked
 * (a receipt that does not verify, a reverted transaction), 2 bad usage or bad input, 3 an environment that is not
 * there (no chain, no gateway, circuits not built). Commands throw classes; `exitCodeOf` maps them, so no error
 * carries an ad-hoc exit-code flag.
 */
import {
  CircuitNotBuiltError,
  InvalidVerifyOptionsError,
  NotProvableError,
  ReceiptFormatError,
} from "../circuits/index.ts";
import { ContractsEnvironmentError } from "../contracts/index.ts";
import { BaseError, type BaseErrorOptions } from "../core/index.ts";
import { GatewayUnavailableError } from "../device-sdk/index.ts";
import { ManifestError } from "../toolchain/index.ts";

export class CliError extends BaseError {
  override name = "CliError";
  readonly exitCode: number = 1;
}

/** A missing or malformed option or argument: exit 2. */
export class UsageError extends CliError {
  override name = "UsageError";
  override readonly exitCode = 2;
}

/** A chain, gateway or file the command needs is not reachable: exit 3. */
export class UnreachableError extends CliError {
  override name = "UnreachableError";
  override readonly exitCode = 3;

  constructor(what: string, opts: BaseErrorOptions & { hint?: string } = {}) {
    super(`cannot reach ${what}${opts.hint ? ` (${opts.hint})` : ""}`, opts);
  }
}

export function exitCodeOf(err: unknown): number {
  if (err instanceof CliError) return err.exitCode;
  if (
    err instanceof ContractsEnvironmentError ||
    err instanceof GatewayUnavailableError ||
    err instanceof CircuitNotBuiltError
  )
    return 3;
  if (
    err instanceof InvalidVerifyOptionsError ||
    err instanceof NotProvableError ||
    err instanceof ManifestError ||
    err instanceof ReceiptFormatError ||
    err instanceof SyntaxError
  )
    return 2;
  return 1;
}
