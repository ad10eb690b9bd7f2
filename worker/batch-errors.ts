/** The batcher's configuration errors (issue 26). */
import { WorkerError } from "./errors.ts";

/** Batch claims were asked for on a store without a batches table (Postgres, so far). */
export class BatchStoreMissingError extends WorkerError {
  override name = "BatchStoreMissingError";
}
