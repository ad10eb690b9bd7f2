/** node-postgres failures as the store's errors (../errors.ts). */
import { StoreUnavailableError } from "../errors.ts";

const UNAVAILABLE_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
]);
/**
 * The driver's error as the store's: a lost or refused connection, or a server shutting down, starting up or out of
 * connection slots (SQLSTATE class 08, 57P01-57P03, 53300), is a StoreUnavailableError; anything else is thrown as is.
 */
export function storeErrorOf(e: unknown): unknown {
  if (e instanceof StoreUnavailableError) return e;
  const err = e as { code?: string; message?: string };
  const code = err?.code ?? "";
  if (
    UNAVAILABLE_CODES.has(code) ||
    code.startsWith("08") ||
    ["57P01", "57P02", "57P03", "53300"].includes(code) ||
    /Connection terminated|timeout exceeded when trying to connect|connection error|not queryable/i.test(
      err?.message ?? "",
    )
  )
    return new StoreUnavailableError(err?.message || code, { cause: e });
  return e;
}
