/**
 * Prometheus metrics (prom-client) for the gateway and, when its tables are at hand, the epoch worker.
 * Request metrics are counted by a middleware; worker figures (runs, fuel, traps, proving time, claims by state, gas)
 * are read from the worker's tables at scrape time, so a worker in another process is still visible here.
 */
import type { MiddlewareHandler } from "hono";
import {
  Counter,
  Gauge,
  Histogram,
  Registry,
  collectDefaultMetrics,
  type MetricObjectWithValues,
  type MetricValueWithName,
} from "prom-client";
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
  "rate-limit-unavailable",
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

/** How readings arrive: `POST /v1/devices/:id/readings[/batch]`, or a message on `mfi/v1/devices/+/readings` (mqtt/). */
export const TRANSPORTS = ["http", "mqtt"] as const;
export type Transport = (typeof TRANSPORTS)[number];

/**
 * The ingest counters both transports count into, created once per registry: readings acknowledged and refusals by
 * reason, each by transport. Every series alerts rely on exists from the start, at 0 (a rate() over a series that
 * appears later misses its first increase, and "absent" cannot tell no refusals from no metric).
 */
export function ingestCounters(registry: Registry): {
  ingested: Counter<"transport">;
  resent: Counter<"transport">;
  rejections: Counter<"reason" | "transport">;
} {
  const known = registry.getSingleMetric("mfi_ingest_readings_total") as Counter<"transport"> | undefined;
  if (known)
    return {
      ingested: known,
      resent: registry.getSingleMetric("mfi_ingest_resent_readings_total") as Counter<"transport">,
      rejections: registry.getSingleMetric("mfi_ingest_rejections_total") as Counter<"reason" | "transport">,
    };
  const ingested = new Counter({
    name: "mfi_ingest_readings_total",
    help: "Readings accepted and stored, by transport (http: the ingest endpoints; mqtt: the readings topic)",
    labelNames: ["transport"],
    registers: [registry],
  });
  const resent = new Counter({
    name: "mfi_ingest_resent_readings_total",
    help: "Readings sent again and answered with their original ack (200: nothing new stored), by transport",
    labelNames: ["transport"],
    registers: [registry],
  });
  const rejections = new Counter({
    name: "mfi_ingest_rejections_total",
    help: "Refused ingest requests (HTTP) and messages (MQTT) by reason (problem type) and transport",
    labelNames: ["reason", "transport"],
    registers: [registry],
  });
  for (const transport of TRANSPORTS) {
    ingested.inc({ transport }, 0);
    resent.inc({ transport }, 0);
    for (const reason of REJECTION_REASONS) rejections.inc({ reason, transport }, 0);
  }
  return { ingested, resent, rejections };
}

/**
 * Count one answered ingest request or message: 201 stored its readings (a batch that resends a prefix and adds new
 * readings counts whole), 200 was a pure resend (answered with the original acks), anything else a refusal.
 */
export function countIngest(
  registry: Registry,
  transport: Transport,
  a: { status: number; readings: number; reason?: string },
): void {
  const c = ingestCounters(registry);
  if (a.status === 201) c.ingested.inc({ transport }, a.readings);
  else if (a.status < 300) c.resent.inc({ transport }, a.readings);
  else c.rejections.inc({ reason: a.reason ?? String(a.status), transport });
}

/** Readings acknowledged and refusals per transport since this process started, from the counters (the dashboard's split). */
export async function ingestByTransport(
  registry: Registry,
): Promise<Record<Transport, { readings: number; resent: number; rejected: number }>> {
  const { ingested, resent, rejections } = ingestCounters(registry);
  const out = { http: { readings: 0, resent: 0, rejected: 0 }, mqtt: { readings: 0, resent: 0, rejected: 0 } };
  for (const v of (await ingested.get()).values) {
    const t = v.labels.transport as Transport | undefined;
    if (t && t in out) out[t].readings += v.value;
  }
  for (const v of (await resent.get()).values) {
    const t = v.labels.transport as Transport | undefined;
    if (t && t in out) out[t].resent += v.value;
  }
  for (const v of (await rejections.get()).values) {
    const t = v.labels.transport as Transport | undefined;
    if (t && t in out) out[t].rejected += v.value;
  }
  return out;
}

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
  ingestCounters(registry); // every ingest series from the start, at 0
  const ingestLatency = new Histogram({
    name: "mfi_ingest_duration_seconds",
    help: "Latency of the ingest endpoints (verify + durable append)",
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });

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
    total("mfi_worker_claims_paid_total", "Claims paid on L1", async () => (await w.totals()).paidClaims);
    // Token units (18 decimals), as the terminal prints them: 0.024, not 24000000000000000.
    total(
      "mfi_worker_reward_paid_total",
      "Reward paid to device owners, in reward-token units (MFI, 18 decimals)",
      async () => tokenUnits((await w.totals()).rewardPaid),
    );
    new Gauge({
      name: "mfi_worker_oldest_pending_claim_age_seconds",
      help: "Age of the longest-waiting pending claim (0 when none is pending): claims not being proved",
      registers: [registry],
      async collect() {
        const at = await w.oldestPending();
        this.set(at === null ? 0 : Math.max(0, (Date.now() - at) / 1000));
      },
    });
    registry.registerMetric(new StoredHistogram(w));
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
      countIngest(registry, "http", {
        status,
        readings: (c.get(INGESTED) as number | undefined) ?? 1,
        reason: status < 300 ? undefined : await rejectionReason(c.res),
      });
    }
  };

  const withProcess = opts.defaults ?? true;
  return {
    registry,
    middleware,
    render: async () => (await registry.metrics()) + (withProcess ? await processMetrics().metrics() : ""),
  };
}

/** A token amount in the smallest unit as a float of whole tokens (18 decimals; exact enough for a dashboard). */
export function tokenUnits(smallest: bigint): number {
  const whole = smallest / 10n ** 18n;
  return Number(whole) + Number(smallest - whole * 10n ** 18n) / 1e18;
}

/**
 * `mfi_worker_prove_duration_seconds{circuit}`: the store keeps the histogram's buckets (trigger-kept counters, the
 * same bounds), so it is exported as stored instead of observed in this process: a worker elsewhere shows up too.
 * prom-client has no way to set a histogram's buckets, hence the override of what the registry reads.
 */
const PROVE_HELP = "Proving time per claim, by circuit (the receipt's seal.circuit)";
class StoredHistogram extends Histogram<"circuit"> {
  constructor(private readonly w: WorkerStatus) {
    super({
      name: "mfi_worker_prove_duration_seconds",
      help: PROVE_HELP,
      labelNames: ["circuit"],
      buckets: [1], // unused: get() reports the stored buckets
      registers: [],
    });
  }

  override async get(): Promise<MetricObjectWithValues<MetricValueWithName<"circuit" | "le">>> {
    const name = "mfi_worker_prove_duration_seconds";
    const values: MetricValueWithName<"circuit" | "le">[] = [];
    for (const h of await this.w.proveHistogram()) {
      const circuit = h.circuit;
      for (const b of h.buckets)
        values.push({ labels: { circuit, le: b.le }, value: b.n, metricName: `${name}_bucket` });
      values.push({ labels: { circuit, le: "+Inf" }, value: h.count, metricName: `${name}_bucket` });
      values.push({ labels: { circuit }, value: h.sumMs / 1000, metricName: `${name}_sum` });
      values.push({ labels: { circuit }, value: h.count, metricName: `${name}_count` });
    }
    return { name, help: PROVE_HELP, type: "histogram" as never, values, aggregator: "sum", collect: () => {} };
  }

  getForPromString() {
    return this.get();
  }
}

/**
 * `mfi_chain_reachable` = 1 when the chain answers eth_chainId with the expected id, else 0 (probed at most every 5 s,
 * so scrapes do not hammer the RPC). A gateway without an RPC URL has no such series.
 */
export function recordChainReachable(registry: Registry, probe: () => Promise<string>, maxAgeMs = 5_000): void {
  let last: { at: number; ok: boolean } | undefined;
  new Gauge({
    name: "mfi_chain_reachable",
    help: "1 when the chain's RPC answers eth_chainId with the configured chain id, 0 when it does not",
    registers: [registry],
    async collect() {
      if (!last || Date.now() - last.at > maxAgeMs) last = { at: Date.now(), ok: (await probe()) === "ok" };
      this.set(last.ok ? 1 : 0);
    },
  });
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
