/**
 * The gateway as its own process: `tsx gateway/main.ts`. Configured by environment (MFI_GATEWAY_*), prints one JSON
 * line `{"event":"listening","url":…}` on stdout when ready, so parents (devnet, crash tests) can wait for it.
 */
import { startGateway } from "./server.ts";

const env = process.env;
const num = (k: string) => (env[k] === undefined || env[k] === "" ? undefined : Number(env[k]));
const skew = env.MFI_GATEWAY_MAX_SKEW_MS;

const running = await startGateway({
  port: num("MFI_GATEWAY_PORT") ?? 0,
  hostname: env.MFI_GATEWAY_HOST ?? "127.0.0.1",
  dbPath: env.MFI_GATEWAY_DB ?? ".mfi/gateway.sqlite",
  chainId: env.MFI_GATEWAY_CHAIN_ID ? BigInt(env.MFI_GATEWAY_CHAIN_ID) : undefined,
  registry: env.MFI_GATEWAY_REGISTRY,
  verifyWorkers: num("MFI_GATEWAY_VERIFY_WORKERS"),
  maxClockSkewMs: skew === "off" ? null : skew ? Number(skew) : undefined,
  rateLimit: env.MFI_GATEWAY_RATE === "off" ? false : env.MFI_GATEWAY_RATE ? { perSecond: Number(env.MFI_GATEWAY_RATE), burst: 2 * Number(env.MFI_GATEWAY_RATE) } : undefined,
  operatorAuth: env.MFI_GATEWAY_OPERATOR_AUTH !== "off",
  apiKeys: env.MFI_GATEWAY_API_KEYS ? env.MFI_GATEWAY_API_KEYS.split(",") : undefined,
  onInternalError: (e) => console.error(JSON.stringify({ event: "internal-error", error: String((e as Error)?.stack ?? e) })),
});
console.log(JSON.stringify({ event: "listening", url: running.url, backend: running.gateway.backend.name }));

const stop = async () => {
  await running.close();
  process.exit(0);
};
process.once("SIGINT", stop);
process.once("SIGTERM", stop);
