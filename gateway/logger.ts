/**
 * Structured logs (pino, one JSON object per line on stdout; MFI_LOG_LEVEL sets the level) and a hono middleware that
 * logs each request with its route, status and latency. Bodies and API keys are never logged.
 */
import type { MiddlewareHandler } from "hono";
import { pino, type Logger, type LoggerOptions } from "pino";

export type { Logger };

export function createLogger(opts: LoggerOptions & { name?: string } = {}): Logger {
  return pino({
    name: opts.name ?? "mfi-gateway",
    level: opts.level || process.env.MFI_LOG_LEVEL || "info", // an empty MFI_LOG_LEVEL counts as unset
    redact: { paths: ["req.headers.authorization", 'req.headers["x-api-key"]'], remove: true },
    ...opts,
  });
}

/** One line per request: info for < 500, error for 5xx; health probes and /metrics scrapes at debug. */
export function requestLogger(log: Logger): MiddlewareHandler {
  return async (c, next) => {
    const start = performance.now();
    await next();
    const entry = {
      method: c.req.method,
      path: c.req.path,
      route: c.req.routePath,
      status: c.res.status,
      ms: Math.round((performance.now() - start) * 100) / 100,
    };
    if (c.res.status >= 500) log.error(entry, "request failed");
    else if (/^\/(healthz|readyz|metrics)$/.test(c.req.path)) log.debug(entry, "probe");
    else log.info(entry, "request");
  };
}
