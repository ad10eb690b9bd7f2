/**
 * The store layer's errors. Implementations translate their driver's failures into these, so callers (the gateway's
 * problem responses, the worker's retries) decide on the class, never on a driver's message or code.
 */
import { BaseError, type BaseErrorOptions } from "../core/errors.ts";

/** The store layer's base: catch it for any failure of the database behind the store interfaces. */
export class StoreError extends BaseError {
  override name = "StoreError";
}

/**
 * The database cannot be reached right now (refused or dropped connection, server shutting down or starting up, no
 * free connection slot). Nothing was written by the failed call, or a commit's answer was lost: retrying is right,
 * and an append retried after a lost answer is a resend the chain rule recognises.
 */
export class StoreUnavailableError extends StoreError {
  override name = "StoreUnavailableError";
  constructor(details: string, opts: Omit<BaseErrorOptions, "details"> = {}) {
    super("the database is unavailable", {
      details,
      metaMessages: ["retry later; check that the database server is up and reachable"],
      docsPath: "docs/operations.md#running-on-postgres",
      ...opts,
    });
  }
}

/** A batch was asked to take a claim that is not queued for batching or that another open batch holds (issue 26). */
export class BatchClaimTakenError extends StoreError {
  override name = "BatchClaimTakenError";
}
