/** startGateway: createGateway on a real socket (@hono/node-server), keep-alive on; close() drains and closes. */
import { serve } from "@hono/node-server";
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { createGateway, type Gateway, type GatewayOptions } from "./app.ts";

export interface StartGatewayOptions extends GatewayOptions {
  /** 0 picks a free port. */
  port?: number;
  hostname?: string;
}

export interface RunningGateway {
  url: string;
  port: number;
  gateway: Gateway;
  close(): Promise<void>;
}

export async function startGateway(opts: StartGatewayOptions = {}): Promise<RunningGateway> {
  const gateway = await createGateway(opts);
  const hostname = opts.hostname ?? "127.0.0.1";
  const server = await new Promise<Server>((resolve) => {
    const s = serve({ fetch: gateway.app.fetch, port: opts.port ?? 0, hostname }, () => resolve(s as Server));
  });
  server.keepAliveTimeout = 30_000;
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${hostname}:${port}`,
    port,
    gateway,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections?.();
      });
      await gateway.close();
    },
  };
}
