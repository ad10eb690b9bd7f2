/** Turning errors into application/problem+json, and the zod hook that makes schema failures 400 problems. */
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { StoreUnavailableError } from "../../store/index.ts";
import { GatewayError } from "../errors.ts";

export function problemResponse(c: Context, err: GatewayError): Response {
  return new Response(JSON.stringify(err.toProblem(c.req.path)), {
    status: err.status,
    headers: { "content-type": "application/problem+json", ...err.headers },
  });
}

/** Map anything thrown to a problem; unknown errors are 500 without internals (they are logged by the caller). */
export function toGatewayError(err: unknown): GatewayError {
  if (err instanceof GatewayError) return err;
  // The database is down or restarting (a Postgres store shared by several gateways): nothing was stored, and the
  // device keeps its readings and retries, as after any 503.
  if (err instanceof StoreUnavailableError)
    return new GatewayError(503, "store-unavailable", "the database is unavailable", {
      cause: err,
      details: "nothing new was acknowledged; retry after Retry-After",
      headers: { "retry-after": "1" },
    });
  if (err instanceof HTTPException) {
    const type =
      ({ 400: "bad-request", 413: "too-large", 415: "unsupported-media-type" } as Record<number, string>)[err.status] ??
      "http-error";
    return new GatewayError(err.status, type, err.message || "request failed");
  }
  return new GatewayError(500, "internal", "internal error", {
    cause: err,
    details: "the gateway logged it; retry later",
  });
}

type ZodLikeResult = { success: boolean; error?: { issues: { path: PropertyKey[]; message: string }[] } };

/** A schema failure as a 400 naming the first few bad fields; shared by HTTP (below) and MQTT (gateway/mqtt). */
export function schemaError(result: ZodLikeResult): GatewayError {
  const issues = (result.error?.issues ?? [])
    .slice(0, 5)
    .map((i) => ({ path: i.path.map(String).join("."), message: i.message }));
  return new GatewayError(400, "bad-request", "the request does not match the schema", {
    details: issues.map((i) => `${i.path || "(body)"}: ${i.message}`).join("; "),
    extensions: { issues },
  });
}

/** defaultHook for OpenAPIHono: a schema failure becomes a 400 naming the first few bad fields. */
export function validationHook(result: ZodLikeResult, c: Context): Response | undefined {
  if (result.success) return undefined;
  return problemResponse(c, schemaError(result));
}
