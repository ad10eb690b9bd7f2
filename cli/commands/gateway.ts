/**
 * `mfi gateway start`: run the ingest gateway on its own, wired like the devnet's: pino request logs (JSON lines on
 * stdout), /metrics, /dashboard over the worker's tables in the same database, /readyz checking the chain when --rpc
 * names it. `mfi gateway apikey <name>`: create an operator API key (printed once; the database keeps only its sha256).
 */
import type { Command } from "commander";
import { join } from "node:path";
import { existsSync } from "node:fs";
import { serveGateway, type ServedGateway } from "../../gateway/index.ts";
import { openStoreAsync } from "../../store/index.ts";
import { UsageError } from "../errors.ts";

const LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];

interface DbOpts {
  db?: string;
  state?: string;
}

/** --db, else MFI_GATEWAY_DB (a SQLite file or a postgres:// URL), else the devnet's or the default SQLite file. */
const dbPath = ({ db: dbFile, state }: DbOpts) =>
  dbFile ?? (state ? join(state, "machinefi.sqlite") : process.env.MFI_GATEWAY_DB || join(".mfi", "gateway.sqlite"));

function usage(msg: string): never {
  throw new UsageError(msg);
}

const offOr = (name: string, v: string | undefined): number | "off" | undefined => {
  if (v === undefined) return undefined;
  if (v === "off") return "off";
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) usage(`--${name} takes a non-negative number or "off", got ${JSON.stringify(v)}`);
  return n;
};

/** Without --market: DataMarket from the deployment manifest for --chain-id (<state>/deployments with --state, as the devnet keeps it). */
async function manifestMarket(state: string | undefined, chainId: string): Promise<string | undefined> {
  // Loaded only here: the contracts layer is not needed to serve readings.
  const { DEFAULT_MANIFEST_DIR, readManifest } = await import("../../contracts/index.ts");
  const dir = state ? join(state, "deployments") : DEFAULT_MANIFEST_DIR;
  if (!existsSync(join(dir, `${chainId}.json`))) return undefined;
  return readManifest(BigInt(chainId), dir).contracts.DataMarket || undefined;
}

export function register(program: Command): void {
  const gw = program.command("gateway").description("the ingest gateway: signed device readings in, durably stored");

  gw.command("start")
    .description("serve the gateway API (POST readings, /openapi.json, /reference) until interrupted")
    .option(
      "--db <file|url>",
      "SQLite database file (default .mfi/gateway.sqlite) or postgres:// URL shared by any number of gateways (default MFI_GATEWAY_DB)",
    )
    .option("--state <dir>", "devnet state directory (uses <dir>/machinefi.sqlite)")
    .option("--port <n>", "port (0 = any free port)", "8787")
    .option("--host <host>", "address to listen on", "127.0.0.1")
    .option("--chain-id <id>", "chain id registrations must name", "31337")
    .option(
      "--registry <address>",
      "DeviceRegistry address registrations must name",
      "0x0000000000000000000000000000000000000000",
    )
    .option("--workers <n>", "verifier worker threads (0 = verify inline)")
    .option("--max-skew <ms|off>", "largest |ts - now| accepted, in ms, or off for historical data", "300000")
    .option("--rate <n|off>", "requests per second per device (bursts of 2n), or off", "50")
    .option("--no-operator-auth", "serve operator endpoints without an API key (local development only)")
    .option(
      "--rpc <url>",
      "the chain's JSON-RPC URL: /readyz then checks it answers with --chain-id (default MFI_RPC_URL)",
    )
    .option(
      "--market <address>",
      "DataMarket address: serve /v1/market streams, read through --rpc (default: the deployment manifest's, when --rpc is given)",
    )
    .option(
      "--audience <hosts>",
      "comma-separated audiences accepted in access requests besides the host they are sent to (a public name behind a proxy; default MFI_GATEWAY_AUDIENCE)",
    )
    .option("--log-level <level>", `pino level: ${LEVELS.join(", ")} (default MFI_LOG_LEVEL or info)`)
    .option("--no-dashboard", "do not serve /dashboard and /dashboard.json")
    .option("--no-metrics", "do not serve /metrics")
    .option(
      "--dashboard-token <token>",
      "protect /dashboard(.json) with this token; operator API keys work too (default MFI_DASHBOARD_TOKEN; unset: open)",
    )
    .option("--protect-metrics", "/metrics needs the dashboard token or an operator API key as well")
    .option(
      "--allow-open-routes",
      "listen beyond loopback although the dashboard, /metrics or operator routes are open to anyone (refused otherwise; MFI_GATEWAY_ALLOW_OPEN_ROUTES=on)",
    )
    .addHelpText(
      "after",
      `
Logs are JSON lines on stdout (one per request; health probes and scrapes at debug); the first is
{"msg":"gateway listening","url":…}. The dashboard shows the epoch worker's tables when a worker
(mfi worker start, or worker/main.ts) shares the database.

Examples:
  $ mfi gateway start --db .mfi/gw.sqlite --port 8787 --max-skew off --rpc http://127.0.0.1:8545
  $ curl localhost:8787/readyz      # 503 names what is down: database, verifier or chain
  $ curl localhost:8787/v1/market   # with --rpc and a deployment manifest (.mfi/deployments/<chainId>.json,
                                    # <state>/deployments with --state) or --market: what buyers sign
  $ MFI_DASHBOARD_TOKEN=s3cret mfi gateway start --log-level warn --protect-metrics
  $ curl -H "Authorization: Bearer s3cret" localhost:8787/dashboard.json

Exit codes: 0 stopped (SIGINT/SIGTERM), 2 bad usage, 3 cannot listen or open the database.`,
    )
    .action(
      async (
        o: DbOpts & {
          port: string;
          host: string;
          chainId: string;
          registry: string;
          workers?: string;
          maxSkew: string;
          rate: string;
          operatorAuth: boolean;
          rpc?: string;
          market?: string;
          audience?: string;
          logLevel?: string;
          dashboard: boolean;
          metrics: boolean;
          dashboardToken?: string;
          protectMetrics?: boolean;
          allowOpenRoutes?: boolean;
        },
      ) => {
        const port = Number(o.port);
        if (!Number.isInteger(port) || port < 0 || port > 65535) usage(`--port must be 0..65535, got ${o.port}`);
        if (!/^[0-9]+$/.test(o.chainId)) usage(`--chain-id must be a decimal integer, got ${o.chainId}`);
        if (!/^0x[0-9a-fA-F]{40}$/.test(o.registry))
          usage(`--registry must be an address (0x + 40 hex digits), got ${o.registry}`);
        const workers = o.workers === undefined ? undefined : Number(o.workers);
        if (workers !== undefined && !(Number.isInteger(workers) && workers >= 0))
          usage(`--workers must be a whole number, got ${o.workers}`);
        const skew = offOr("max-skew", o.maxSkew);
        const rate = offOr("rate", o.rate);
        // 0 would refuse every post with Retry-After: Infinity; "off" is how to disable the limit.
        if (rate === 0) usage('--rate must be above 0, or "off"');
        const level = o.logLevel ?? (process.env.MFI_LOG_LEVEL || "info");
        if (!LEVELS.includes(level)) usage(`--log-level must be one of ${LEVELS.join(", ")}, got ${level}`);
        const rpcUrl = o.rpc ?? (process.env.MFI_RPC_URL || undefined);
        if (rpcUrl !== undefined && !/^https?:\/\//.test(rpcUrl)) usage(`--rpc must be an http(s) URL, got ${rpcUrl}`);
        const token = o.dashboardToken ?? (process.env.MFI_DASHBOARD_TOKEN || undefined);
        if (o.protectMetrics && !token) usage("--protect-metrics needs --dashboard-token (or MFI_DASHBOARD_TOKEN)");
        if (o.market !== undefined && !/^0x[0-9a-fA-F]{40}$/.test(o.market))
          usage(`--market must be an address (0x + 40 hex digits), got ${o.market}`);
        if (o.market !== undefined && rpcUrl === undefined)
          usage("--market needs --rpc (or MFI_RPC_URL) to read DataMarket");
        const marketAddress = o.market ?? (rpcUrl !== undefined ? await manifestMarket(o.state, o.chainId) : undefined);
        let served: ServedGateway;
        try {
          served = await serveGateway({
            dbPath: dbPath(o),
            logLevel: level,
            dashboard: o.dashboard,
            metrics: o.metrics,
            dashboardToken: token,
            protectMetrics: !!o.protectMetrics,
            rpcUrl,
            marketAddress,
            marketAudiences: (o.audience ?? process.env.MFI_GATEWAY_AUDIENCE ?? "").split(",").filter(Boolean),
            port,
            hostname: o.host,
            chainId: BigInt(o.chainId),
            registry: o.registry,
            verifyWorkers: workers,
            maxClockSkewMs: skew === "off" ? null : skew,
            rateLimit: rate === "off" ? false : rate === undefined ? undefined : { perSecond: rate, burst: 2 * rate },
            operatorAuth: o.operatorAuth,
            allowOpenRoutes:
              !!o.allowOpenRoutes || /^(on|1|true)$/.test(process.env.MFI_GATEWAY_ALLOW_OPEN_ROUTES ?? ""),
            // Keys from the environment (comma-separated) work beside the stored ones, for operator endpoints and dashboard.
            apiKeys: process.env.MFI_GATEWAY_API_KEYS
              ? process.env.MFI_GATEWAY_API_KEYS.split(",").filter(Boolean)
              : undefined,
          });
        } catch (err) {
          console.error(`cannot start the gateway: ${(err as Error).message}`);
          process.exit(3);
        }
        const url = served.running.url;
        if (process.stderr.isTTY) {
          console.error(
            `gateway listening on ${url}\n  API reference ${url}/reference · readiness ${url}/readyz${o.metrics ? ` · metrics ${url}/metrics` : ""}${o.dashboard ? ` · dashboard ${url}/dashboard` : ""}`,
          );
        }
        const stop = async () => {
          await served.close();
          process.exit(0);
        };
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
      },
    );

  gw.command("apikey")
    .description("create an operator API key (shown once) for the operator endpoints")
    .argument("<name>", "a unique name for the key, e.g. the person or service using it")
    .option("--db <file|url>", "SQLite database file (default .mfi/gateway.sqlite) or postgres:// URL")
    .option("--state <dir>", "devnet state directory (uses <dir>/machinefi.sqlite)")
    .addHelpText(
      "after",
      '\nExample:\n  $ mfi gateway apikey ops --db .mfi/gw.sqlite\n  $ curl -H "Authorization: Bearer $KEY" localhost:8787/v1/devices',
    )
    .action(async (name: string, o: DbOpts) => {
      const store = await openStoreAsync(dbPath(o));
      try {
        console.log(await store.createApiKey(name));
      } catch (err) {
        console.error(
          /UNIQUE|duplicate key/.test((err as Error).message)
            ? `a key named ${JSON.stringify(name)} exists already; pick another name`
            : (err as Error).message,
        );
        process.exitCode = 2;
      } finally {
        await store.close();
      }
    });
}
