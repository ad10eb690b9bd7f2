/**
 * Liveness (/healthz: the process answers) and readiness (/readyz: the database answers, a verifier is up and, when
 * the gateway knows its chain's RPC URL, the chain answers eth_chainId with the configured chain id). /readyz names
 * each dependency's state in `checks` and lists the ones that are down in `down`, so a 503 says what to fix.
 */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { GatewayContext } from "../context.ts";

const Status = z
  .object({
    status: z.string(),
    backend: z.string().optional(),
    checks: z
      .record(z.string(), z.string())
      .optional()
      .openapi({ example: { database: "ok", verifier: "ok", chain: "ok" } }),
    down: z
      .array(z.string())
      .optional()
      .openapi({ example: ["chain"] }),
  })
  .openapi("Status");

/** Probes are cheap and bounded: a hung dependency must not hang the probe (Kubernetes' default timeout is 1 s). */
const CHAIN_TIMEOUT_MS = 1500;
const VERIFIER_TIMEOUT_MS = 2000;

/** "ok", or why the chain is not usable. */
export async function checkChain(rpcUrl: string, chainId: bigint, timeoutMs = CHAIN_TIMEOUT_MS): Promise<string> {
  try {
    const res = await fetch(rpcUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!res.ok) return `unavailable: HTTP ${res.status} from the RPC`;
    const body = (await res.json()) as { result?: string; error?: { message?: string } };
    if (typeof body.result !== "string") return `unavailable: ${body.error?.message ?? "no eth_chainId result"}`;
    const got = BigInt(body.result);
    return got === chainId ? "ok" : `wrong chain: the RPC serves chain ${got}, the gateway expects ${chainId}`;
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    return `unreachable: ${e.name === "TimeoutError" ? `no answer within ${timeoutMs} ms` : (e.cause?.code ?? e.message)}`;
  }
}

/** Each dependency's state ("ok", or why not): what /readyz answers and the dashboard's health banner shows. */
export async function readinessChecks(
  ctx: Pick<GatewayContext, "store" | "verifier" | "rpcUrl" | "chainId">,
): Promise<Record<string, string>> {
  const timeout = new Promise<boolean>((r) => setTimeout(() => r(false), VERIFIER_TIMEOUT_MS).unref());
  const [db, verifier, chain] = await Promise.all([
    ctx.store.ping().catch(() => false),
    Promise.race([ctx.verifier.ready().then(() => true), timeout]).catch(() => false),
    ctx.rpcUrl ? checkChain(ctx.rpcUrl, ctx.chainId) : Promise.resolve(undefined),
  ]);
  const checks: Record<string, string> = {
    database: db ? "ok" : "unavailable",
    verifier: verifier ? "ok" : "starting",
  };
  if (chain !== undefined) checks.chain = chain;
  return checks;
}

export function healthRoutes(ctx: GatewayContext) {
  const app = new OpenAPIHono();
  app.openapi(
    createRoute({
      method: "get",
      path: "/healthz",
      summary: "Liveness",
      responses: { 200: { description: "alive", content: { "application/json": { schema: Status } } } },
    }),
    (c) => c.json({ status: "ok" }, 200),
  );
  app.openapi(
    createRoute({
      method: "get",
      path: "/readyz",
      summary: "Readiness",
      description:
        "Checks the database, the signature verifier and (when configured) the chain; 503 names what is down.",
      responses: {
        200: { description: "ready", content: { "application/json": { schema: Status } } },
        503: {
          description: "not ready: `down` lists the failing dependencies",
          content: { "application/json": { schema: Status } },
        },
      },
    }),
    async (c) => {
      const checks = await readinessChecks(ctx);
      const down = Object.entries(checks)
        .filter(([, v]) => v !== "ok")
        .map(([k]) => k);
      if (down.length === 0) return c.json({ status: "ready", backend: ctx.backend.name, checks }, 200);
      return c.json(
        { status: `not ready: ${down.join(", ")} ${down.length > 1 ? "are" : "is"} down`, checks, down },
        503,
      );
    },
  );
  return app;
}
