/**
 * The gateway as its own process: `node --import ./cli/register.mjs gateway/main.ts`. Configured by environment
 * (MFI_GATEWAY_*, and MFI_LOG_LEVEL, MFI_RPC_URL, MFI_DASHBOARD_TOKEN, MFI_DASHBOARD_PROTECT_METRICS as `mfi gateway
 * start` reads them; docs/configuration.md). Starts through serveGateway, as `mfi gateway start` does, so both have the
 * same logs, /metrics, dashboard, chain readiness and market. Besides the pino lines it prints one JSON line
 * `{"event":"listening","url":…}` on stdout when ready, so parents (crash tests, supervisors) can wait for it.
 */
import { serveGateway } from "./server.ts";

const env = process.env;
const str = (k: string) => (env[k] === undefined || env[k] === "" ? undefined : env[k]);
const num = (k: string) => (str(k) === undefined ? undefined : Number(env[k]));
const skew = str("MFI_GATEWAY_MAX_SKEW_MS");
const rate = str("MFI_GATEWAY_RATE");

const served = await serveGateway({
  dbPath: str("MFI_GATEWAY_DB") ?? ".mfi/gateway.sqlite",
  logLevel: str("MFI_LOG_LEVEL"),
  dashboard: env.MFI_GATEWAY_DASHBOARD !== "off",
  metrics: env.MFI_GATEWAY_METRICS !== "off",
  dashboardToken: str("MFI_DASHBOARD_TOKEN"),
  protectMetrics: env.MFI_DASHBOARD_PROTECT_METRICS === "1",
  rpcUrl: str("MFI_RPC_URL"),
  marketAddress: str("MFI_GATEWAY_MARKET"),
  port: num("MFI_GATEWAY_PORT") ?? 0,
  hostname: str("MFI_GATEWAY_HOST") ?? "127.0.0.1",
  chainId: str("MFI_GATEWAY_CHAIN_ID") ? BigInt(env.MFI_GATEWAY_CHAIN_ID!) : undefined,
  registry: str("MFI_GATEWAY_REGISTRY"),
  verifyWorkers: num("MFI_GATEWAY_VERIFY_WORKERS"),
  maxClockSkewMs: skew === "off" ? null : skew ? Number(skew) : undefined,
  rateLimit: rate === "off" ? false : rate ? { perSecond: Number(rate), burst: 2 * Number(rate) } : undefined,
  operatorAuth: env.MFI_GATEWAY_OPERATOR_AUTH !== "off",
  apiKeys: str("MFI_GATEWAY_API_KEYS")?.split(",").filter(Boolean),
});
console.log(JSON.stringify({ event: "listening", url: served.running.url, backend: served.running.gateway.backend.name }));

const stop = async () => {
  await served.close();
  process.exit(0);
};
process.once("SIGINT", stop);
process.once("SIGTERM", stop);
