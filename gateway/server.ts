/**
 * startGateway: createGateway on a real socket (@hono/node-server), keep-alive on. close() shuts down gracefully:
 * stop accepting, answer requests that arrive meanwhile with a clean 503, let the requests in flight finish (each is
 * acknowledged only after its commit, so a 201 means durable), then close the verifier and the store.
 * serveGateway: the operator's gateway from plain settings (database file, log level, dashboard, metrics, chain,
 * market), the one start-up path of `mfi gateway start` and gateway/main.ts so the two cannot drift apart.
 */
import { backendStatus } from "../device-sdk/index.ts";
import { serve } from "@hono/node-server";
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { createGateway, type Gateway, type GatewayOptions } from "./app.ts";
import { GatewayError } from "./errors.ts";
import { createLogger, type Logger } from "./logger.ts";
import { registryKeyStatus } from "./chain-keys.ts";
import { ethersMarketReader } from "./market/chain-reader.ts";
import { createMetrics } from "./metrics.ts";
import { mqttIngestMetrics } from "./mqtt/metrics.ts";
import { startMqttIngest, type MqttIngest } from "./mqtt/subscriber.ts";
import { isPostgresUrl, openStoreAsync, type StoreSet } from "../store/index.ts";
import { openSharedRateLimits, type SharedRateLimits } from "./shared-rate-limit.ts";

export interface StartGatewayOptions extends GatewayOptions {
  /** 0 picks a free port. */
  port?: number;
  hostname?: string;
  /** How long close() lets requests in flight finish before cutting their connections (default 10 s). */
  drainTimeoutMs?: number;
  /** Most open sockets; beyond it new connections are dropped (default 10,000). */
  maxConnections?: number;
  /** A request must arrive whole within this many ms (default 30 s); its headers within min(this, 10 s). */
  requestTimeoutMs?: number;
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
      const err = new GatewayError(503, "shutting-down", "the gateway is shutting down", {
        details: "nothing was stored; retry against the restarted gateway",
        headers: { "retry-after": "1" },
      });
      return new Response(JSON.stringify(err.toProblem(new URL(req.url).pathname)), {
        status: 503,
        headers: { "content-type": "application/problem+json", connection: "close", ...err.headers },
      });
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
  // Slow or idle clients must not hold sockets and memory for ever (Node's defaults: unlimited connections, 5 min to
  // send a request). A 1,000-reading batch is about 400 kB: 30 s is ample on any link a device uses.
  const requestTimeout = opts.requestTimeoutMs ?? 30_000;
  server.maxConnections = opts.maxConnections ?? 10_000;
  server.requestTimeout = requestTimeout;
  server.headersTimeout = Math.min(requestTimeout, 10_000);
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

export interface ServeGatewayConfig extends Omit<
  StartGatewayOptions,
  | "store"
  | "dbPath"
  | "storeOptions"
  | "logger"
  | "metrics"
  | "workerStatus"
  | "dashboardAuth"
  | "market"
  | "onInternalError"
> {
  /** A SQLite file, or a postgres:// URL (any number of gateways may share that database). */
  dbPath: string;
  /** pino level (default info). */
  logLevel?: string;
  /** /dashboard(.json) over the epoch worker's tables in the same database (default true). */
  dashboard?: boolean;
  /** /metrics, with the worker's figures (default true). */
  metrics?: boolean;
  /** Protect the dashboard with this token (operator API keys work too); unset: open. */
  dashboardToken?: string;
  /** /metrics needs the token or an operator API key as well. */
  protectMetrics?: boolean;
  /** DataMarket address: serve /v1/market streams, reading the chain through rpcUrl. */
  marketAddress?: string;
  /** Audiences the market accepts besides the host a request is sent to (--audience, MFI_GATEWAY_AUDIENCE). */
  marketAudiences?: string[];
  /** Also ingest readings from this MQTT broker (docs/mqtt.md), MQTT 5 (default) or 4 (3.1.1, no shared subscription). */
  mqttUrl?: string;
  mqttProtocol?: 4 | 5;
  /**
   * Listen beyond loopback although the dashboard, /metrics or operator routes are open to anyone (no token, no
   * operator auth). Without it such a gateway refuses to start (--allow-open-routes, MFI_GATEWAY_ALLOW_OPEN_ROUTES).
   */
  allowOpenRoutes?: boolean;
}

/** What a gateway with these settings serves to anyone without a key, by name (empty: nothing). */
export function openRoutesOf(cfg: {
  dashboard?: boolean;
  metrics?: boolean;
  dashboardToken?: string;
  protectMetrics?: boolean;
  operatorAuth?: boolean;
}): string[] {
  const operatorAuth = cfg.operatorAuth ?? true;
  const open: string[] = [];
  // The dashboard takes the viewer token or an operator key; with neither it is open.
  if ((cfg.dashboard ?? true) && !cfg.dashboardToken && !operatorAuth) open.push("dashboard");
  if ((cfg.metrics ?? true) && !cfg.protectMetrics) open.push("metrics");
  if (!operatorAuth) open.push("operator routes");
  return open;
}

export interface ServedGateway {
  running: RunningGateway;
  log: Logger;
  /** What anyone can read or call without a key (openRoutesOf); the start-up line says so. */
  open: string[];
  /** Graceful stop: the gateway (drained), then the store and the chain client; flushes the log. */
  close(): Promise<void>;
}

/** Opens the store (its worker view feeds the dashboard and metrics), starts the gateway, logs "gateway listening". */
export async function serveGateway(cfg: ServeGatewayConfig): Promise<ServedGateway> {
  const {
    dbPath,
    logLevel,
    dashboard = true,
    metrics = true,
    dashboardToken,
    protectMetrics,
    marketAddress,
    marketAudiences,
    mqttUrl,
    mqttProtocol,
    allowOpenRoutes,
    ...rest
  } = cfg;
  if (marketAddress && !rest.rpcUrl)
    throw new GatewayError(500, "config", "a market needs the chain's JSON-RPC URL", {
      details: "set rpcUrl (--rpc, MFI_RPC_URL) with the DataMarket address",
    });
  // The dashboard lists every device, owner and payout, /metrics the fleet's activity, operator routes every device:
  // beyond loopback none of them is served to anyone unless the operator says so explicitly.
  const loopback = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/.test(rest.hostname ?? "127.0.0.1");
  const open = openRoutesOf({ dashboard, metrics, dashboardToken, protectMetrics, operatorAuth: rest.operatorAuth });
  if (open.length > 0 && !loopback && !allowOpenRoutes)
    throw new GatewayError(
      500,
      "config",
      `refusing to listen on ${rest.hostname} with ${open.join(", ")} open to anyone (no token, no operator key)`,
      {
        details: [
          open.includes("dashboard")
            ? "dashboard: set --dashboard-token (MFI_DASHBOARD_TOKEN), keep operator auth on, or --no-dashboard"
            : "",
          open.includes("metrics") ? "metrics: --protect-metrics with a dashboard token, or --no-metrics" : "",
          open.includes("operator routes")
            ? "operator routes: drop --no-operator-auth (MFI_GATEWAY_OPERATOR_AUTH=off)"
            : "",
          "or, if this is intended, --allow-open-routes (MFI_GATEWAY_ALLOW_OPEN_ROUTES=on)",
        ]
          .filter(Boolean)
          .join("; "),
      },
    );
  if (protectMetrics && !dashboardToken)
    throw new GatewayError(500, "config", "protecting /metrics needs a dashboard token", {
      details: "set dashboardToken (--dashboard-token, MFI_DASHBOARD_TOKEN)",
    });
  const log = createLogger({ level: logLevel ?? "info" });
  const store: StoreSet = await openStoreAsync(dbPath);
  // On Postgres every gateway shares the budgets (shared-rate-limit.ts); on SQLite one process holds them in memory.
  let shared: SharedRateLimits | undefined;
  try {
    shared = isPostgresUrl(dbPath) ? await openSharedRateLimits(dbPath) : undefined;
  } catch (err) {
    await store.close().catch(() => {});
    throw err;
  }
  const ws = store.worker;
  const reader = marketAddress ? ethersMarketReader({ rpcUrl: rest.rpcUrl, address: marketAddress }) : undefined;
  // With the chain and a real DeviceRegistry, follow key rotations and revocations on L1 (chain-keys.ts).
  const keys =
    rest.keyStatus || !rest.rpcUrl || !rest.registry || /^0x0{40}$/i.test(rest.registry)
      ? undefined
      : registryKeyStatus({ rpcUrl: rest.rpcUrl, registry: rest.registry });
  let running: RunningGateway;
  try {
    running = await startGateway({
      ...rest,
      store,
      sharedLimits: shared,
      logger: log,
      metrics: metrics ? createMetrics({ workerStatus: ws }) : false,
      workerStatus: dashboard ? ws : undefined,
      dashboardAuth: dashboardToken ? { token: dashboardToken, metrics: !!protectMetrics } : undefined,
      market: reader ? { reader, address: marketAddress!, audiences: marketAudiences } : undefined,
      keyStatus: rest.keyStatus ?? keys,
      onInternalError: (e) => log.error({ err: e }, "internal error"),
    });
  } catch (err) {
    reader?.close();
    keys?.close();
    await shared?.close();
    await store.close().catch(() => {});
    throw err;
  }
  let mqtt: MqttIngest | undefined;
  if (mqttUrl) {
    try {
      const registry = running.gateway.metrics?.registry;
      const v = mqttProtocol ?? 5;
      mqtt = await startMqttIngest({
        url: mqttUrl,
        protocolVersion: v,
        shareGroup: v === 5 ? "gateways" : false,
        ctx: running.gateway.ingestContext,
        onReply: registry && mqttIngestMetrics(registry),
      });
    } catch (err) {
      await running.close();
      await shared?.close();
      await store.close().catch(() => {});
      reader?.close();
      keys?.close();
      throw err;
    }
  }
  const shown = (on: boolean, protect: boolean) => (on ? (protect ? "token" : "open") : "off");
  const operatorAuth = rest.operatorAuth ?? true;
  const crypto = backendStatus();
  if (crypto?.fallback)
    log.warn(
      { backend: crypto.name, reason: crypto.reason },
      "signatures on the slow JS backend (~100x slower): run `npm run build` (build/crypto/crypto.wasm) and restart",
    );
  log.info(
    {
      url: running.url,
      backend: running.gateway.backend.name,
      db: dbPath.replace(/\/\/([^:/@]*):[^@]*@/, "//$1:***@"),
      chain: rest.rpcUrl ?? null,
      market: marketAddress ?? null,
      keys: keys ? "follows L1" : rest.keyStatus ? "custom" : "local",
      mqtt: mqttUrl ?? null,
      dashboard: dashboard && !dashboardToken && operatorAuth ? "operator key" : shown(dashboard, !!dashboardToken),
      metrics: shown(metrics, !!protectMetrics),
      operator: operatorAuth ? "key" : "open",
      open,
    },
    "gateway listening",
  );
  if (open.length) log.warn({ open, url: running.url }, `open to anyone without a key: ${open.join(", ")}`);
  return {
    running,
    log,
    open,
    async close() {
      log.info("stopping");
      await mqtt?.close();
      await running.close();
      await shared?.close();
      await store.close();
      reader?.close();
      keys?.close();
      log.flush();
    },
  };
}
