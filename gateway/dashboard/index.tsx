/** The operator dashboard sub-app: GET /dashboard (HTML) and /dashboard.json; mounted when the worker's status is given. */
import { Hono, type MiddlewareHandler } from "hono";
import { createDashboardLoader, type DashboardSources } from "./data.ts";
import { DashboardPage } from "./page.tsx";

export { createDashboardLoader, loadDashboard, type DashboardData, type DashboardSources } from "./data.ts";
export { dashboardGuard, type DashboardAuthOptions } from "./auth.ts";

/** guard: dashboardGuard(…) when the dashboard is protected (GatewayOptions.dashboardAuth). */
export function dashboardRoutes(
  w: DashboardSources,
  opts: { refreshSeconds?: number; guard?: MiddlewareHandler; cacheMs?: number } = {},
) {
  const app = new Hono();
  const load = createDashboardLoader(w, { cacheMs: opts.cacheMs });
  if (opts.guard) {
    app.use("/dashboard", opts.guard);
    app.use("/dashboard.json", opts.guard);
  }
  app.get("/dashboard", async (c) => {
    // Links to the other protected views keep the token the page was opened with.
    const token = c.req.query("token");
    const q = token ? `?token=${encodeURIComponent(token)}` : "";
    return c.html(
      "<!doctype html>" +
        (<DashboardPage d={await load()} refreshSeconds={opts.refreshSeconds ?? 5} q={q} />).toString(),
    );
  });
  app.get("/dashboard.json", async (c) => c.json(await load()));
  return app;
}
