/**
 * The parts of /openapi.json that are not zod-openapi routes: the auth schemes, /metrics and /dashboard.json (plain
 * hono routes, documented here so the reference lists every path a gateway serves).
 */
import type { OpenAPIHono } from "@hono/zod-openapi";

export function documentOperatorViews(
  app: OpenAPIHono,
  opts: { metrics: boolean; dashboard: boolean; metricsProtected: boolean },
): void {
  const r = app.openAPIRegistry;
  r.registerComponent("securitySchemes", "apiKey", {
    type: "http",
    scheme: "bearer",
    description:
      "An operator API key (`mfi gateway apikey <name>`, or MFI_GATEWAY_API_KEYS): `Authorization: Bearer <key>`. " +
      "Operator routes need it unless the gateway runs with --no-operator-auth.",
  });
  r.registerComponent("securitySchemes", "viewerToken", {
    type: "apiKey",
    in: "query",
    name: "token",
    description:
      "The dashboard's viewer token (MFI_DASHBOARD_TOKEN) or an operator API key; also accepted as " +
      "`Authorization: Bearer <token>` or `x-api-key: <token>`. Only when the dashboard is protected.",
  });
  const unauthorized = {
    description: "problem 401: unauthorized (no or wrong token)",
    content: { "application/problem+json": { schema: { $ref: "#/components/schemas/Problem" } } },
  };
  if (opts.metrics)
    r.registerPath({
      method: "get",
      path: "/metrics",
      tags: ["operations"],
      summary: "Prometheus metrics",
      description:
        "Text exposition format (prom-client): ingest rate and latency, rejections by reason, worker runs, traps, " +
        "claims by state, reward paid, proving time per circuit, chain reachability. The list is in docs/operations.md.",
      ...(opts.metricsProtected ? { security: [{ viewerToken: [] }, { apiKey: [] }] } : {}),
      responses: {
        200: {
          description: "the metrics",
          content: {
            "text/plain; version=0.0.4": {
              schema: { type: "string" },
              example:
                '# HELP mfi_ingest_readings_total Readings acknowledged, by transport\n# TYPE mfi_ingest_readings_total counter\nmfi_ingest_readings_total{transport="http"} 1200\nmfi_ingest_rejections_total{reason="chain-conflict",transport="http"} 3\n',
            },
          },
        },
        ...(opts.metricsProtected ? { 401: unauthorized } : {}),
      },
    });
  if (opts.dashboard)
    r.registerPath({
      method: "get",
      path: "/dashboard.json",
      tags: ["operations"],
      summary: "What the dashboard shows, as JSON",
      description:
        "Health (readiness checks, oldest pending claim, failed claims, stale devices), devices (the first 25, with " +
        "devicesTotal), readings per minute, applets, the latest runs and claims (with their totals), payouts. Rewards " +
        "are decimal strings in the token's smallest unit (18 decimals). Built at most every 2 s, shared by all viewers. " +
        "/dashboard is the same as an HTML page.",
      security: [{ viewerToken: [] }, { apiKey: [] }],
      responses: {
        200: {
          description: "the dashboard's data (gateway/dashboard/data.ts, DashboardData)",
          content: {
            "application/json": {
              schema: { type: "object", additionalProperties: true },
              example: {
                health: { ok: true, checks: { database: "ok", verifier: "ok", chain: "ok" }, problems: [] },
                devicesTotal: 40,
                readingsTotal: 2000000,
                claimsTotal: 1200,
                rewardPaid: "24000000000000000",
              },
            },
          },
        },
        401: unauthorized,
      },
    });
}
