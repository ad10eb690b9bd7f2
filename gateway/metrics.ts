/**
 * Prometheus metrics (prom-client) for the gateway and, when its tables are at hand, the epoch worker.
 * Request metrics are counted by a middleware; worker figures (runs, fuel, traps, proving time, claims by state, gas)
 * are read from the worker's tables at scrape time, so a worker in another process is still visible here.
 */
import type { MiddlewareHandler } from "hono";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { WorkerStore } from "../worker/store.ts";

export interface GatewayMetrics {
  registry: Registry;
  middleware: MiddlewareHandler;
  /** Text exposition for GET /metrics. */
  render(): Promise<string>;
}

export interface MetricsOptions {
  workerStore?: WorkerStore;
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
  const requests = new Counter({ name: "mfi_http_requests_total", help: "HTTP requests by route and status", labelNames: ["method", "route", "status"], registers: [registry] });
  const latency = new Histogram({
    name: "mfi_http_request_duration_seconds",
    help: "HTTP request latency by route",
    labelNames: ["method", "route"],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const ingested = new Counter({ name: "mfi_ingest_readings_total", help: "Readings acknowledged by the ingest endpoints", registers: [registry] });
  const ingestLatency = new Histogram({ name: "mfi_ingest_duration_seconds", help: "Latency of the ingest endpoints (verify + durable append)", buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5], registers: [registry] });
  const rejections = new Counter({ name: "mfi_ingest_rejections_total", help: "Refused ingest requests by reason (problem type)", labelNames: ["reason"], registers: [registry] });

  const w = opts.workerStore;
  if (w) {
    const db = w.db;
    new Gauge({
      name: "mfi_worker_claims",
      help: "Claims by state",
      labelNames: ["state"],
      registers: [registry],
      collect() {
        for (const [state, n] of Object.entries(w.claimCounts())) this.set({ state }, n);
      },
    });
    const one = <T>(sql: string) => db.prepare(sql).get() as T;
    new Gauge({ name: "mfi_worker_runs_total", help: "Applet runs recorded", registers: [registry], collect() { this.set(w.runCounts().runs); } });
    new Gauge({ name: "mfi_worker_traps_total", help: "Applet runs that trapped, by trap kind", labelNames: ["kind"], registers: [registry], collect() {
      this.reset();
      for (const r of db.prepare("SELECT substr(trap, 1, instr(trap, ':') - 1) AS kind, count(*) AS n FROM worker_runs WHERE trap IS NOT NULL GROUP BY kind").all() as { kind: string; n: number }[]) this.set({ kind: r.kind || "unknown" }, r.n);
    } });
    new Gauge({ name: "mfi_worker_fuel_used_total", help: "Fuel used by all recorded runs", registers: [registry], collect() { this.set(one<{ f: number | null }>("SELECT sum(fuel_used) AS f FROM worker_runs").f ?? 0); } });
    new Gauge({ name: "mfi_worker_prove_seconds_total", help: "Time spent proving claims", registers: [registry], collect() { this.set((one<{ t: number | null }>("SELECT sum(prove_ms) AS t FROM worker_claims").t ?? 0) / 1000); } });
    new Gauge({ name: "mfi_worker_proofs_total", help: "Claims proved (and timed)", registers: [registry], collect() { this.set(one<{ n: number }>("SELECT count(prove_ms) AS n FROM worker_claims").n); } });
    new Gauge({ name: "mfi_worker_gas_used_total", help: "Gas used by paid claims' transactions", registers: [registry], collect() { this.set(one<{ g: number | null }>("SELECT sum(gas_used) AS g FROM worker_claims").g ?? 0); } });
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
  return { registry, middleware, render: async () => (await registry.metrics()) + (withProcess ? await processMetrics().metrics() : "") };
}
