/**
 * Optional protection for the operator's read-only views (/dashboard, /dashboard.json and, when asked, /metrics).
 * Off unless configured: a local devnet serves them openly. When on, a request passes with the configured token or
 * any operator API key (the store keeps those hashed), sent as `Authorization: Bearer <t>`, `x-api-key: <t>` or, for a
 * browser tab, `?token=<t>` (the page's refresh keeps it; request logs record the path only, never the query).
 */
import type { MiddlewareHandler } from "hono";
import { timingSafeEqual } from "node:crypto";
import { GatewayError } from "../errors.ts";
import { tokenFormPage } from "../home.tsx";
import { hashApiKey } from "../../store/index.ts";
import type { ReadingStore } from "../../store/index.ts";

export interface DashboardAuthOptions {
  /** A shared viewer token (e.g. from MFI_DASHBOARD_TOKEN); operator API keys are accepted as well. */
  token?: string;
  /** Also protect /metrics (Prometheus then needs `authorization: { credentials: <token> }`). Default false. */
  metrics?: boolean;
}

const digest = (s: string) => Buffer.from(hashApiKey(s), "hex");

export function dashboardGuard(
  store: ReadingStore,
  opts: DashboardAuthOptions,
  extraKeys: readonly string[] = [],
): MiddlewareHandler {
  // Compared as sha256 digests, so every comparison has the same length and timing.
  const accepted = [...(opts.token ? [opts.token] : []), ...extraKeys].map(digest);
  return async (c, next) => {
    const given =
      c.req.header("authorization")?.match(/^Bearer\s+(\S+)$/i)?.[1] ??
      c.req.header("x-api-key") ??
      c.req.query("token");
    if (given) {
      const h = digest(given);
      if (accepted.some((a) => timingSafeEqual(a, h)) || (await store.checkApiKey(given)) !== undefined) return next();
    }
    // A browser gets a page with a token form instead of a JSON problem.
    if (/text\/html/.test(c.req.header("accept") ?? ""))
      return c.html(tokenFormPage(c.req.path, !!given), 401, { "www-authenticate": 'Bearer realm="mfi-dashboard"' });
    throw new GatewayError(401, "unauthorized", "the dashboard needs a viewer token or an operator API key", {
      details:
        "send Authorization: Bearer <token>, or open /dashboard?token=<token> in a browser (the token is MFI_DASHBOARD_TOKEN or a key from `mfi gateway apikey <name>`)",
      headers: { "www-authenticate": 'Bearer realm="mfi-dashboard"' },
    });
  };
}
