/** Liveness (/healthz: the process answers) and readiness (/readyz: the database answers and a verifier is up). */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { GatewayContext } from "../context.ts";

const Status = z.object({ status: z.string(), backend: z.string().optional() }).openapi("Status");

export function healthRoutes(ctx: GatewayContext) {
  const app = new OpenAPIHono();
  app.openapi(createRoute({ method: "get", path: "/healthz", summary: "Liveness", responses: { 200: { description: "alive", content: { "application/json": { schema: Status } } } } }), (c) =>
    c.json({ status: "ok" }, 200),
  );
  app.openapi(
    createRoute({
      method: "get",
      path: "/readyz",
      summary: "Readiness",
      responses: {
        200: { description: "ready", content: { "application/json": { schema: Status } } },
        503: { description: "not ready", content: { "application/json": { schema: Status } } },
      },
    }),
    async (c) => {
      const db = await ctx.store.ping().catch(() => false);
      const verifier = await Promise.race([ctx.verifier.ready().then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 2000).unref())]).catch(() => false);
      return db && verifier ? c.json({ status: "ready", backend: ctx.backend.name }, 200) : c.json({ status: db ? "verifier starting" : "database unavailable" }, 503);
    },
  );
  return app;
}
