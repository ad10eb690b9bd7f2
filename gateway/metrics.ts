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

/** The problem types ingest refuses with (gateway/errors.ts, client-budget.ts, chain-keys.ts): their series start at 0. */
export const REJECTION_REASONS = [
  "bad-request",
  "unprocessable",
  "chain-conflict",
  "unauthorized",
  "not-found",
  "rate-limited",
  "too-many-failures",
  "too-large",
  "overloaded",
  "shutting-down",
  "store-unavailable",
  "device-key-revoked",
] as const;

/** runtime's trap kinds (Trap in runtime/trap.ts; metrics.test.ts checks they agree): their series start at 0. */
export const TRAP_KINDS = [
  "OutOfFuel",
  "MemoryLimit",
  "Unreachable",
  "StackOverflow",
  "AppletAbort",
  "HostError",
] as const;

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
  // Every series alerts rely on exists from the start, at 0 (a rate() over a series that appears later misses its first
  // increase, and "absent" cannot tell no refusals from no metric).
  for (const reason of REJECTION_REASONS) rejections.inc({ reason }, 0);

  const w = opts.workerStatus;
  if (w) {
    new Gauge({
      name: "mfi_worker_claims",
      help: "Claims by state (a level: claims move between states)",
      labelNames: ["state"],
      registers: [registry],
      async collect() {
        for (const [state, n] of Object.entries(await w.claimCounts())) this.set({ state }, n);
      },
    });
    // Totals read from the store: counters (they only grow), set to the stored total at each scrape.
    const total = (name: string, help: string, read: () => Promise<number>) =>
      new Counter({
        name,
        help,
        registers: [registry],
        async collect() {
          const v = await read();
          this.reset();
          this.inc(v);
        },
      });
    total("mfi_worker_runs_total", "Applet runs recorded", async () => (await w.runCounts()).runs);
    new Counter({
      name: "mfi_worker_traps_total",
      help: "Applet runs that trapped, by trap kind",
      labelNames: ["kind"],
      registers: [registry],
      async collect() {
        const kinds = await w.trapCounts();
        this.reset();
        for (const kind of TRAP_KINDS) this.inc({ kind }, 0);
        for (const r of kinds) this.inc({ kind: r.kind }, r.n);
      },
    });
    total("mfi_worker_fuel_used_total", "Fuel used by all recorded runs", async () => (await w.totals()).fuelUsed);
    total("mfi_worker_prove_seconds_total", "Time spent proving claims", async () => (await w.totals()).proveMs / 1000);
    total("mfi_worker_proofs_total", "Claims proved (and timed)", async () => (await w.totals()).proofs);
    total("mfi_worker_gas_used_total", "Gas used by paid claims' transactions", async () => (await w.totals()).gasUsed);
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
