/** The operator dashboard sub-app: GET /dashboard (HTML) and /dashboard.json; mounted when the worker's tables exist. */
import { Hono, type MiddlewareHandler } from "hono";
import type { WorkerStore } from "../../worker/store.ts";
import { loadDashboard } from "./data.ts";
import { DashboardPage } from "./page.tsx";

export { loadDashboard, type DashboardData } from "./data.ts";
export { dashboardGuard, type DashboardAuthOptions } from "./auth.ts";

/** guard: dashboardGuard(…) when the dashboard is protected (GatewayOptions.dashboardAuth). */
export function dashboardRoutes(w: WorkerStore, opts: { refreshSeconds?: number; guard?: MiddlewareHandler } = {}) {
  const app = new Hono();
  if (opts.guard) {
    app.use("/dashboard", opts.guard);
    app.use("/dashboard.json", opts.guard);
  }
  app.get("/dashboard", (c) => c.html(<DashboardPage d={loadDashboard(w)} refreshSeconds={opts.refreshSeconds ?? 5} />));
  app.get("/dashboard.json", (c) => c.json(loadDashboard(w)));
  return app;
}
