/** The operator dashboard sub-app: GET /dashboard (HTML) and /dashboard.json; mounted when the worker's tables exist. */
import { Hono } from "hono";
import type { WorkerStore } from "../worker/store.ts";
import { loadDashboard } from "./data.ts";
import { DashboardPage } from "./page.tsx";

export { loadDashboard, type DashboardData } from "./data.ts";

export function dashboardRoutes(w: WorkerStore, opts: { refreshSeconds?: number } = {}) {
  const app = new Hono();
  app.get("/dashboard", (c) => c.html(<DashboardPage d={loadDashboard(w)} refreshSeconds={opts.refreshSeconds ?? 5} />));
  app.get("/dashboard.json", (c) => c.json(loadDashboard(w)));
  return app;
}
