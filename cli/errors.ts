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
import { GatewayUnavailableError, InvalidKeyError } from "../device-sdk/index.ts";
import { RuntimeInputError, ValidationError } from "../runtime/index.ts";
import { CompileError, ManifestError } from "../toolchain/index.ts";
import { CommanderError } from "commander";

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

/**
 * The one table (docs/cli.md "Exit codes"): every command's failure goes through here, from its own catch or from
 * cli/main.ts, which also prints the message (never a stack trace).
 */
export function exitCodeOf(err: unknown): number {
  if (err instanceof CliError) return err.exitCode;
  // commander's refusals: unknown option or command, missing argument; its help exits 0
  if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
  if (
    err instanceof ContractsEnvironmentError ||
    err instanceof GatewayUnavailableError ||
    err instanceof CircuitNotBuiltError ||
    err instanceof CompileError
  )
    return 3;
  if (
    err instanceof InvalidVerifyOptionsError ||
    err instanceof NotProvableError ||
    err instanceof ManifestError ||
    err instanceof ValidationError ||
    err instanceof RuntimeInputError ||
    err instanceof InvalidKeyError ||
    err instanceof ReceiptFormatError ||
    err instanceof SyntaxError
  )
    return 2;
  return 1;
}
