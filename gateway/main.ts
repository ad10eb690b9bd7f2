/**
 * The gateway as its own process: `node --import ./cli/register.mjs gateway/main.ts`. Configured by environment
 * (MFI_GATEWAY_*, and MFI_LOG_LEVEL, MFI_RPC_URL, MFI_DASHBOARD_TOKEN, MFI_DASHBOARD_PROTECT_METRICS as `mfi gateway
 * start` reads them; docs/configuration.md). Starts through serveGateway, as `mfi gateway start` does, so both have the
 * same logs, /metrics, dashboard, chain readiness and market. Besides the pino lines it prints one JSON line
 * `{"event":"listening","url":…}` on stdout when ready, so parents (crash tests, supervisors) can wait for it. Every
 * variable is checked first (config.ts): a bad value exits 2 with a message naming it.
 */
import { ConfigError, parseGatewayEnv } from "./config.ts";
import { serveGateway } from "./server.ts";

let config;
try {
  config = parseGatewayEnv(process.env);
} catch (e) {
  // A bad value stops start-up, naming the variable (exit 2: bad usage, as `mfi gateway start`).
  if (!(e instanceof ConfigError)) throw e;
  console.error(e.message);
  process.exit(2);
}
const served = await serveGateway(config);
console.log(
  JSON.stringify({ event: "listening", url: served.running.url, backend: served.running.gateway.backend.name }),
);

const stop = async () => {
  await served.close();
  process.exit(0);
};
process.once("SIGINT", stop);
process.once("SIGTERM", stop);
