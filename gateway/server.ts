/**
 * startGateway: createGateway on a real socket (@hono/node-server), keep-alive on. close() shuts down gracefully:
 * stop accepting, answer requests that arrive meanwhile with a clean 503, let the requests in flight finish (each is
 * acknowledged only after its commit, so a 201 means durable), then close the verifier and the store.
 */
import { serve } from "@hono/node-server";
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { createGateway, type Gateway, type GatewayOptions } from "./app.ts";
import { GatewayError } from "./errors.ts";

export interface StartGatewayOptions extends GatewayOptions {
  /** 0 picks a free port. */
  port?: number;
  hostname?: string;
  /** How long close() lets requests in flight finish before cutting their connections (default 10 s). */
  drainTimeoutMs?: number;
}

export interface RunningGateway {
  url: string;
  port: number;
  gateway: Gateway;
  /** Requests being handled right now. */
  inFlight(): number;
  close(): Promise<void>;
}

export async function startGateway(opts: StartGatewayOptions = {}): Promise<RunningGateway> {
  const gateway = await createGateway(opts);
  const hostname = opts.hostname ?? "127.0.0.1";
  let inFlight = 0;
  let draining = false;
  let drained: (() => void) | undefined;
  const fetch = async (req: Request, env: Parameters<typeof gateway.app.fetch>[1]): Promise<Response> => {
    if (draining) {
      // A request on a kept-alive connection after close(): refused before it touches anything, so nothing changes.
      const err = new GatewayError(503, "shutting-down", "the gateway is shutting down", { details: "nothing was stored; retry against the restarted gateway", headers: { "retry-after": "1" } });
      return new Response(JSON.stringify(err.toProblem(new URL(req.url).pathname)), { status: 503, headers: { "content-type": "application/problem+json", connection: "close", ...err.headers } });
    }
    inFlight++;
    try {
      return await gateway.app.fetch(req, env);
    } finally {
      if (--inFlight === 0) drained?.();
    }
  };
  const server = await new Promise<Server>((resolve) => {
    const s = serve({ fetch, port: opts.port ?? 0, hostname }, () => resolve(s as Server));
  });
  server.keepAliveTimeout = 30_000;
  const port = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${hostname}:${port}`,
    port,
    gateway,
    inFlight: () => inFlight,
    close() {
      closing ??= (async () => {
        draining = true;
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        // Idle keep-alive sockets go now; busy ones close once their response is written.
        server.closeIdleConnections();
        if (inFlight > 0) {
          let timer: NodeJS.Timeout | undefined;
          await Promise.race([
            new Promise<void>((resolve) => (drained = resolve)),
            new Promise<void>((resolve) => (timer = setTimeout(resolve, opts.drainTimeoutMs ?? 10_000))),
          ]);
          clearTimeout(timer);
        }
        // Let the last responses reach their sockets, then cut whatever is left (stuck or slow clients).
        await new Promise((r) => setImmediate(r));
        server.closeAllConnections();
        await stopped;
        await gateway.close();
      })();
      return closing;
    },
  };
}
