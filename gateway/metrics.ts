/**
 * Prometheus metrics (prom-client) for the gateway and, when its tables are at hand, the epoch worker.
 * Request metrics are counted by a middleware; worker figures (runs, fuel, traps, proving time, claims by state, gas)
 * are read from the worker's tables at scrape time, so a worker in another process is still visible here.
 */
import type { MiddlewareHandler } from "hono";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { WorkerStatus } from "../store/index.ts";

export interface GatewayMetrics {
  registry: Registry;
  middleware: MiddlewareHandler;
  /** Text exposition for GET /metrics. */
  render(): Promise<string>;
}

export interface MetricsOptions {
  workerStatus?: WorkerStatus;
  /** Node process metrics (default true); collected once per process into a shared registry, appended to render(). */
  defaults?: boolean;
}

/** The problem type's last path segment ("https://…/problems/chain-gap" → "chain-gap"); status code when absent. */
async function rejectionReason(res: Response): Promise<string> {
  try {
    const body = (await res.clone().json()) as { type?: string };
    if (typeof body.type === "string") return body.type.split("/").pop() || String(res.status);
  } catch {
    // not JSON: fall through to the status code
  }
  return String(res.status);
}

/** Context key under which the ingest routes put the number of readings they acknowledged. */
export const INGESTED = "mfiIngested" as const;

const INGEST_PATH = /^\/v1\/devices\/[^/]+\/readings(\/batch)?$/;

let processRegistry: Registry | undefined;
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry, prefix: "mfi_" });
  }
  return processRegistry;
}

export function createMetrics(opts: MetricsOptions = {}): GatewayMetrics {
  const registry = new Registry();
  const requests = new Counter({
    name: "mfi_http_requests_total",
    help: "HTTP requests by route and status",
    labelNames: ["method", "route", "status"],
    registers: [registry],
  });
  const latency = new Histogram({
    name: "mfi_http_request_duration_seconds",
    help: "HTTP request latency by route",
    labelNames: ["method", "route"],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const ingested = new Counter({
    name: "mfi_ingest_readings_total",
    help: "Readings acknowledged by the ingest endpoints",
    registers: [registry],
  });
  const ingestLatency = new Histogram({
    name: "mfi_ingest_duration_seconds",
    help: "Latency of the ingest endpoints (verify + durable append)",
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const rejections = new Counter({
    name: "mfi_ingest_rejections_total",
    help: "Refused ingest requests by reason (problem type)",
    labelNames: ["reason"],
    registers: [registry],
  });

  const w = opts.workerStatus;
  if (w) {
    new Gauge({
      name: "mfi_worker_claims",
      help: "Claims by state",
      labelNames: ["state"],
      registers: [registry],
      async collect() {
        for (const [state, n] of Object.entries(await w.claimCounts())) this.set({ state }, n);
      },
    });
    const status = w;
    const totals = (pick: (t: Awaited<ReturnType<WorkerStatus["totals"]>>) => number) =>
      async function (this: Gauge) {
        this.set(pick(await status.totals()));
      };
    new Gauge({
      name: "mfi_worker_runs_total",
      help: "Applet runs recorded",
      registers: [registry],
      async collect() {
        this.set((await w.runCounts()).runs);
      },
    });
    new Gauge({
      name: "mfi_worker_traps_total",
      help: "Applet runs that trapped, by trap kind",
      labelNames: ["kind"],
      registers: [registry],
      async collect() {
        const kinds = await w.trapCounts();
        this.reset();
        for (const r of kinds) this.set({ kind: r.kind }, r.n);
      },
    });
    new Gauge({
      name: "mfi_worker_fuel_used_total",
      help: "Fuel used by all recorded runs",
      registers: [registry],
      collect: totals((t) => t.fuelUsed),
    });
    new Gauge({
      name: "mfi_worker_prove_seconds_total",
      help: "Time spent proving claims",
      registers: [registry],
      collect: totals((t) => t.proveMs / 1000),
    });
    new Gauge({
      name: "mfi_worker_proofs_total",
      help: "Claims proved (and timed)",
      registers: [registry],
      collect: totals((t) => t.proofs),
    });
    new Gauge({
      name: "mfi_worker_gas_used_total",
      help: "Gas used by paid claims' transactions",
      registers: [registry],
      collect: totals((t) => t.gasUsed),
    });
  }

  const middleware: MiddlewareHandler = async (c, next) => {
    const start = performance.now();
    await next();
    const seconds = (performance.now() - start) / 1000;
    // routePath is the matched pattern (/v1/devices/:id), so label cardinality stays bounded.
    const route = c.req.routePath || "unmatched";
    const status = c.res.status;
    requests.inc({ method: c.req.method, route, status: String(status) });
    latency.observe({ method: c.req.method, route }, seconds);
    if (c.req.method === "POST" && INGEST_PATH.test(c.req.path)) {
      ingestLatency.observe(seconds);
      // The route says how many readings it acknowledged (cloning and re-parsing the response cost ~5% of a post).
      if (status < 300) ingested.inc((c.get(INGESTED) as number | undefined) ?? 1);
      else rejections.inc({ reason: await rejectionReason(c.res) });
    }
  };

  const withProcess = opts.defaults ?? true;
  return {
    registry,
    middleware,
    render: async () => (await registry.metrics()) + (withProcess ? await processMetrics().metrics() : ""),
  };
}

/**
 * `mfi_crypto_backend{backend, fallback}` = 1: which EdDSA backend verifies signatures. fallback="true" means the
 * Wasm backend could not be used and ingest runs ~100× slower: alert on it.
 */
export function recordCryptoBackend(registry: Registry, backend: { name: string; fallback: boolean }): void {
  const existing = registry.getSingleMetric("mfi_crypto_backend") as Gauge | undefined;
  const g =
    existing ??
    new Gauge({
      name: "mfi_crypto_backend",
      help: "The EdDSA backend verifying signatures (1); fallback=true: the slow JS one because the Wasm one failed",
      labelNames: ["backend", "fallback"],
      registers: [registry],
    });
  g.reset();
  g.set({ backend: backend.name, fallback: String(backend.fallback) }, 1);
}
