/**
 * Per-client budgets, keyed by the socket's remote address (never a header a client can set). Refused requests cost
 * the sender, not the device they name: a stranger posting junk for device B runs out of its own budget and B's
 * stays untouched (ingest.ts charges B only for verified work). In-process callers (app.request in tests, the MQTT
 * subscriber) have no socket and are not limited here.
 */
import type { Context, MiddlewareHandler } from "hono";
import type { IncomingMessage } from "node:http";
import { rateLimited, type RateLimiter } from "./rate-limit.ts";
import { toGatewayError } from "./routes/problem.ts";

/** The peer's IP address, when the request came over a socket. */
export function clientAddress(c: Context): string | undefined {
  return (c.env as { incoming?: IncomingMessage } | undefined)?.incoming?.socket?.remoteAddress ?? undefined;
}

/** A client error the sender could have avoided; 429 (our own refusal) and 5xx (ours) do not count. */
const isFailure = (status: number) => status >= 400 && status < 500 && status !== 429;

/**
 * Refuse a client whose failure budget is spent (429 before any parsing or signature work, held for up to `delayMs`),
 * and charge one token for every request of theirs that was refused.
 */
export function failureBudget(limiter: RateLimiter<string> | undefined, delayMs = 1000): MiddlewareHandler {
  return async (c, next) => {
    const addr = limiter && clientAddress(c);
    if (!limiter || !addr) return next();
    const d = limiter.check(addr);
    if (!d.ok) {
      // Tarpit: the refusal waits (up to the retry time it announces, at most delayMs) before it is sent. A client
      // that ignores Retry-After and asks again at once is slowed to a few requests per second per connection, for
      // the price of a timer; its connections count against the server's maxConnections like any other.
      if (delayMs > 0) await new Promise((r) => setTimeout(r, Math.min(delayMs, d.retryAfterMs)));
      const e = rateLimited(
        "too-many-failures",
        `too many refused requests from ${addr}`,
        d.retryAfterMs,
        "the problems of the refused requests say what to fix",
      );
      // Close the connection: keeping it alive means reading (and discarding) whatever body the client sent, up to
      // the body limit, for every refused request; a client over its failure budget reconnects instead.
      e.headers.connection = "close";
      throw e;
    }
    try {
      await next();
    } catch (e) {
      if (isFailure(toGatewayError(e).status)) limiter.charge(addr);
      throw e;
    }
    if (isFailure(c.res.status)) limiter.charge(addr);
  };
}

/** Every request (not only failures) takes a token: for endpoints whose success is itself costly (registration). */
export function requestBudget(limiter: RateLimiter<string> | undefined, what: string): MiddlewareHandler {
  return async (c, next) => {
    const addr = limiter && clientAddress(c);
    if (!limiter || !addr) return next();
    const d = limiter.take(addr);
    if (!d.ok) throw rateLimited("rate-limited", `too many ${what} from ${addr}`, d.retryAfterMs, "slow down");
    return next();
  };
}
