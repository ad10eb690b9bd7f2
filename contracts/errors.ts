/**
 * Errors of the contracts layer, viem style: `shortMessage` says what went wrong, `details` carries the raw cause,
 * `docsPath` points at docs/contracts.md. ContractRevertedError carries a decoded custom error with the contract's
 * own NatSpec notice, so callers switch on `errorName` and users read the contract's words.
 */
import { BaseError, type BaseErrorOptions } from "../core/index.ts";

export type ContractsErrorOptions = BaseErrorOptions;

export class ContractsError extends BaseError {
  override name = "ContractsError";
}

/** A transaction or call reverted with a custom error that was decoded from the contracts' ABIs. */
export class ContractRevertedError extends ContractsError {
  override name = "ContractRevertedError";
  /** Custom error name, e.g. `PayoutVault__AlreadyClaimed`. */
  readonly errorName: string;
  /** Full signature, e.g. `PayoutVault__AlreadyClaimed(bytes32,uint256,uint256)`. */
  readonly signature: string;
  /** Decoded arguments, in declaration order (bigint, string, boolean). */
  readonly args: readonly unknown[];
  /** For PayoutVault__BatchItemFailed: the failing item's own decoded error. */
  readonly inner?: ContractRevertedError;
  /** Raw revert data. */
  readonly data: string;

  constructor(p: {
    errorName: string;
    signature: string;
    args: readonly unknown[];
    notice?: string;
    data: string;
    inner?: ContractRevertedError;
    cause?: unknown;
  }) {
    const args = p.args.map((a) => (typeof a === "bigint" ? a.toString() : String(a))).join(", ");
    const notice = p.notice ?? "the contract gave no description for this error";
    super(`${p.errorName}(${args}): ${notice}${p.inner ? ` — ${p.inner.shortMessage}` : ""}`, {
      docsPath: "docs/contracts.md#errors",
      cause: p.cause,
    });
    this.errorName = p.errorName;
    this.signature = p.signature;
    this.args = p.args;
    this.inner = p.inner;
    this.data = p.data;
  }
}

/** A call reverted without data we could decode (out of gas, panic, plain require). */
export class UnknownRevertError extends ContractsError {
  override name = "UnknownRevertError";
}

/** Missing build output, a missing binary, or an unreachable node. */
export class ContractsEnvironmentError extends ContractsError {
  override name = "ContractsEnvironmentError";
}
