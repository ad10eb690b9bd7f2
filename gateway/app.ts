/**
 * createGateway: the hono app with its store, device directory and verifier pool. No socket here (see server.ts),
 * so tests call app.request() directly.
 */
import { OpenAPIHono } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import { timingSafeEqual } from "node:crypto";
import { backendStatus, getDefaultBackend, type EddsaBackend } from "../device-sdk/index.ts";
import type { GatewayContext } from "./context.ts";
import { storeDirectory, type DeviceDirectory } from "./directory.ts";
import { chainKeyDirectory, type KeyStatusReader } from "./chain-keys.ts";
import { GatewayError, notFound } from "./errors.ts";
import { createRateLimiter, type RateLimiter, type RateLimitOptions } from "./rate-limit.ts";
import type { SharedRateLimits } from "./shared-rate-limit.ts";
import { documentOperatorViews } from "./openapi-docs.ts";
import { renderReference } from "./reference.tsx";
import { homeRoutes } from "./home.tsx";
import { checkChain, healthRoutes, readinessChecks } from "./routes/health.ts";
import { deviceRoutes } from "./routes/devices.ts";
import { problemResponse, toGatewayError, validationHook } from "./routes/problem.ts";
import { readingRoutes } from "./routes/readings.ts";
import {
  hashApiKey,
  openStore,
  type NonceStore,
  type OpenStoreOptions,
  type ReadingStore,
  type StoreSet,
  type WorkerStatus,
} from "../store/index.ts";
import { createVerifier, type Verifier } from "./verify-pool.ts";
import {
  createMetrics,
  ingestByTransport,
  recordChainReachable,
  recordCryptoBackend,
  type GatewayMetrics,
} from "./metrics.ts";
import { dashboardGuard, dashboardRoutes, type DashboardAuthOptions } from "./dashboard/index.tsx";
import { requestLogger, type Logger } from "./logger.ts";
import { marketApp, type MarketOptions } from "./market/index.ts";

export interface GatewayOptions {
  /** A ready store, or a SQLite path to open (":memory:" for tests). One of the two. */
  store?: ReadingStore | StoreSet;
  dbPath?: string;
  storeOptions?: OpenStoreOptions;
  /** EdDSA backend (default: getDefaultBackend()). */
  backend?: EddsaBackend;
  /** Who knows which devices exist (default: the store's own registrations). */
  directory?: DeviceDirectory;
  /** Follow L1 key rotations: refuse keys DeviceRegistry revoked or replaced (`device-key-revoked`, chain-keys.ts). */
  keyStatus?: KeyStatusReader;
  /** Registrations must name this chain and DeviceRegistry (dev defaults: 31337 and the zero address). */
  chainId?: bigint;
  registry?: string;
  /** Verifier worker threads (default: all cores, started as load calls for them); 0 verifies inline. */
  verifyWorkers?: number;
  /** Readings waiting for the verifier beyond which requests get 503 (default: 4 messages' worth per thread). */
  verifyQueueItems?: number;
  /** Largest |ts - now| in ms (default 5 minutes); null accepts any ts. */
  maxClockSkewMs?: number | null;
  now?: () => number;
  /** Request body limit in bytes (default 1 MiB) and readings per batch (default 1000). */
  maxBodyBytes?: number;
  maxBatch?: number;
  /** Per-device request rate (default 50/s, bursts of 100); false disables. */
  rateLimit?: RateLimitOptions | false;
  /** Refused requests per client address (default 5/s, bursts of 20); false disables. */
  failureLimit?: RateLimitOptions | false;
  /** Device registrations per client address (default 10/s, bursts of 100: a fleet behind one NAT registers at start); false disables. */
  registrationLimit?: RateLimitOptions | false;
  /** Keep the three budgets above in buckets shared by every gateway on one Postgres database (default: per process). */
  sharedLimits?: Pick<SharedRateLimits, "limiter">;
  /** Require an API key on operator endpoints (default true). */
  operatorAuth?: boolean;
  /** Extra operator API keys accepted besides those stored (hashed) in the store, e.g. from the environment. */
  apiKeys?: readonly string[];
  /** Called with unexpected (500) errors. */
  onInternalError?: (err: unknown) => void;
  /** The epoch worker's status (its store's read-only view): mounts /dashboard and adds worker figures to /metrics. */
  workerStatus?: WorkerStatus;
  /** Serve subscribed data-market streams (/v1/market, docs/market.md): a DataMarket reader and address. */
  market?: MarketOptions;
  /** Prometheus registry for /metrics (default: a fresh one); false serves no /metrics. */
  metrics?: GatewayMetrics | false;
  /** pino logger (gateway/logger.ts): one structured line per request. */
  logger?: Logger;
  /** JSON-RPC URL of the chain: /readyz then also checks it answers (eth_chainId) with chainId. */
  rpcUrl?: string;
  /** Protect /dashboard(.json) (and optionally /metrics) with a token or operator API key; default off. */
  dashboardAuth?: DashboardAuthOptions;
}

export interface Gateway {
  app: OpenAPIHono;
  store: ReadingStore;
  directory: DeviceDirectory;
  verifier: Verifier;
  backend: EddsaBackend;
  metrics?: GatewayMetrics;
  /** What non-HTTP ingest (gateway/mqtt) needs to apply the same rules and share the same budgets. */
  ingestContext: Pick<GatewayContext, "ingest" | "maxBodyBytes">;
  close(): Promise<void>;
}

function operatorGuard(store: ReadingStore, enabled: boolean, extraKeys: readonly string[]): MiddlewareHandler {
  const extra = extraKeys.map((k) => Buffer.from(hashApiKey(k), "hex"));
  return async (c, next) => {
    if (!enabled) return next();
    const auth = c.req.header("authorization");
    const key = auth?.match(/^Bearer\s+(\S+)$/i)?.[1] ?? c.req.header("x-api-key");
    if (key) {
      const h = Buffer.from(hashApiKey(key), "hex");
      if (extra.some((e) => timingSafeEqual(e, h)) || (await store.checkApiKey(key)) !== undefined) return next();
    }
    throw new GatewayError(401, "unauthorized", "this endpoint needs an operator API key", {
      details: "send Authorization: Bearer <key> (create one with `mfi gateway apikey <name>`)",
      headers: { "www-authenticate": 'Bearer realm="mfi-operator"' },
    });
  };
}

const keepsNonces = (s: ReadingStore | StoreSet): s is StoreSet => "nonces" in s;

export async function createGateway(opts: GatewayOptions = {}): Promise<Gateway> {
  if (!opts.store && !opts.dbPath)
    throw new GatewayError(500, "config", "createGateway needs a store or a dbPath", {
      details: 'pass dbPath: ":memory:" for a throwaway store',
    });
  const store = opts.store ?? openStore(opts.dbPath!, opts.storeOptions);
  // The market's spent nonces: given, or the store's own when it keeps them (a StoreSet does).
  const nonces: NonceStore | undefined = opts.market?.nonces ?? (keepsNonces(store) ? store.nonces : undefined);
  const backend = opts.backend ?? (await getDefaultBackend());
  const local = opts.directory ?? storeDirectory(store);
  const keys = opts.keyStatus && chainKeyDirectory(local, opts.keyStatus);
  const directory = keys ?? local;
  const verifier = createVerifier({
    backend,
    workers: opts.verifyWorkers,
    ...(opts.verifyQueueItems === undefined ? {} : { maxQueuedItems: opts.verifyQueueItems }),
  });
  const now = opts.now ?? Date.now;
  const rateLimit = opts.rateLimit === undefined ? { perSecond: 50, burst: 100 } : opts.rateLimit;
  const limiter = <K extends bigint | string>(scope: string, o: RateLimitOptions): RateLimiter<K> =>
    opts.sharedLimits ? opts.sharedLimits.limiter<K>(scope, o) : createRateLimiter<K>(o, now);
  const maxBodyBytes = opts.maxBodyBytes ?? 1 << 20;
  const ctx: GatewayContext = {
    store,
    directory,
    verifier,
    backend,
    chainId: opts.chainId ?? 31337n,
    registry: (opts.registry ?? "0x0000000000000000000000000000000000000000").toLowerCase(),
    now,
    maxBodyBytes,
    operator: operatorGuard(store, opts.operatorAuth ?? true, opts.apiKeys ?? []),
    failures:
      opts.failureLimit === false
        ? undefined
        : limiter<string>("failures", opts.failureLimit ?? { perSecond: 5, burst: 20 }),
    registrations:
      opts.registrationLimit === false
        ? undefined
        : limiter<string>("registrations", opts.registrationLimit ?? { perSecond: 10, burst: 100 }),
    rpcUrl: opts.rpcUrl,
    ingest: {
      store,
      directory,
      verifier,
      now,
      maxClockSkewMs: opts.maxClockSkewMs === undefined ? 5 * 60_000 : opts.maxClockSkewMs,
      maxBatch: opts.maxBatch ?? 1000,
      rateLimiter: rateLimit ? limiter<bigint>("device", rateLimit) : undefined,
    },
  };

  const app = new OpenAPIHono({ defaultHook: validationHook });
  const metrics =
    opts.metrics === false ? undefined : (opts.metrics ?? createMetrics({ workerStatus: opts.workerStatus }));
  if (opts.logger) app.use("*", requestLogger(opts.logger));
  // The dashboard lists what /v1/devices refuses without a key: with operator auth on it takes an operator key (or the
  // viewer token); it is open only where the operator routes are open too (a local devnet).
  const viewer =
    opts.dashboardAuth || (opts.operatorAuth ?? true)
      ? dashboardGuard(store, opts.dashboardAuth ?? {}, opts.apiKeys)
      : undefined;
  if (metrics) {
    recordCryptoBackend(metrics.registry, { name: backend.name, fallback: backendStatus()?.fallback ?? false });
    const rpcUrl = opts.rpcUrl;
    if (rpcUrl && !metrics.registry.getSingleMetric("mfi_chain_reachable"))
      recordChainReachable(metrics.registry, () => checkChain(rpcUrl, opts.chainId ?? 31337n));
    app.use("*", metrics.middleware);
    if (viewer && opts.dashboardAuth?.metrics) app.use("/metrics", viewer);
    app.get("/metrics", async (c) =>
      c.text(await metrics.render(), 200, { "content-type": metrics.registry.contentType }),
    );
  }
  if (opts.workerStatus)
    app.route(
      "/",
      dashboardRoutes(
        // with L1's keys, each listed device shows its token's current owner and whether its key still signs
        {
          readings: store,
          worker: opts.workerStatus,
          checks: () => readinessChecks(ctx),
          keys,
          // ingest split by transport (HTTP, MQTT) from this process's counters
          transports: metrics && (() => ingestByTransport(metrics.registry)),
        },
        { guard: viewer },
      ),
    );
  app.onError((err, c) => {
    const g = toGatewayError(err);
    if (g.status >= 500) opts.onInternalError?.(err);
    return problemResponse(c, g);
  });
  app.notFound((c) =>
    problemResponse(c, notFound(`no route ${c.req.method} ${c.req.path}`, "see /reference for the API")),
  );
  app.route("/", homeRoutes({ dashboard: !!opts.workerStatus, metrics: !!metrics }));
  app.route("/", healthRoutes(ctx));
  app.route("/v1", deviceRoutes(ctx));
  app.route("/v1", readingRoutes(ctx));
  if (opts.market) app.route("/v1", marketApp(ctx, { ...opts.market, nonces }));
  documentOperatorViews(app, {
    metrics: !!metrics,
    dashboard: !!opts.workerStatus,
    metricsProtected: !!(viewer && opts.dashboardAuth?.metrics),
  });
  const docConfig = {
    openapi: "3.1.0",
    info: {
      title: "machinefi gateway",
      version: "1",
      description: "Signed device readings in; durably stored; nothing forged or lost.",
    },
  };
  app.doc31("/openapi.json", docConfig);
  let reference: string | undefined;
  app.get("/reference", async (c) => {
    reference ??= await renderReference(app.getOpenAPI31Document(docConfig));
    return c.html(reference);
  });

  let closed = false;
  return {
    app,
    store,
    directory,
    verifier,
    backend,
    metrics,
    ingestContext: { ingest: ctx.ingest, maxBodyBytes },
    async close() {
      if (closed) return;
      closed = true;
      await verifier.close();
      // A store passed in belongs to the caller.
      if (!opts.store) await store.close();
    },
  };
}
