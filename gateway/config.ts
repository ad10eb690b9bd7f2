/**
 * The gateway process's environment (gateway/main.ts; docs/configuration.md), parsed with zod before anything starts.
 * A bad value stops start-up with a message naming the variable: "5m" used to become NaN and silently switch the
 * clock-skew check off, and a rate of "abc" or 0 made every post 429 with Retry-After NaN or Infinity.
 */
import { z } from "zod";
import { BaseError } from "../core/index.ts";
import type { ServeGatewayConfig } from "./server.ts";

export class ConfigError extends BaseError {
  override name = "ConfigError";
  constructor(
    /** The variable (or option) whose value is bad. */
    readonly variable: string,
    value: string,
    expected: string,
  ) {
    super(`${variable}=${JSON.stringify(value)} is not valid: expected ${expected}`, {
      details: "fix or unset it (docs/configuration.md)",
    });
  }
}

const LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
const int = (min: number, max: number) =>
  z
    .string()
    .regex(/^[0-9]+$/)
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));
const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/);
const onOff = z
  .enum(["on", "off", "1", "0", "true", "false"])
  .transform((v) => v === "on" || v === "1" || v === "true");
const orOff = <T extends z.ZodType>(t: T) => z.union([z.literal("off").transform(() => "off" as const), t]);

/** Each variable: its schema and what the error says it expects. */
const VARS = {
  MFI_GATEWAY_DB: [z.string().min(1), "a SQLite file path or a postgres:// URL"],
  MFI_LOG_LEVEL: [z.enum(LEVELS), LEVELS.join(", ")],
  MFI_GATEWAY_DASHBOARD: [onOff, "on or off"],
  MFI_GATEWAY_METRICS: [onOff, "on or off"],
  MFI_DASHBOARD_TOKEN: [z.string().regex(/^\S+$/), "a token without spaces"],
  MFI_DASHBOARD_PROTECT_METRICS: [onOff, "1 or 0"],
  MFI_RPC_URL: [z.string().regex(/^https?:\/\/\S+$/), "an http(s) URL"],
  MFI_GATEWAY_MARKET: [address, "an address (0x + 40 hex digits)"],
  MFI_GATEWAY_AUDIENCE: [
    z.string().regex(/^[\w.:\[\]-]+(,[\w.:\[\]-]+)*$/),
    "comma-separated host names (name[:port])",
  ],
  MFI_GATEWAY_PORT: [int(0, 65535), "a port 0..65535"],
  MFI_GATEWAY_HOST: [z.string().regex(/^[\w.:-]+$/), "a host name or IP address"],
  MFI_GATEWAY_CHAIN_ID: [
    z
      .string()
      .regex(/^[0-9]{1,78}$/)
      .transform(BigInt),
    "a decimal chain id",
  ],
  MFI_GATEWAY_REGISTRY: [address, "an address (0x + 40 hex digits)"],
  MFI_GATEWAY_VERIFY_WORKERS: [int(0, 256), "a whole number of threads, 0..256"],
  MFI_GATEWAY_MAX_SKEW_MS: [orOff(int(0, 2 ** 48)), 'whole milliseconds or "off"'],
  MFI_GATEWAY_RATE: [
    orOff(
      z
        .string()
        .regex(/^[0-9]+(\.[0-9]+)?$/)
        .transform(Number)
        .pipe(z.number().positive().max(1e6)),
    ),
    'requests per second (> 0) or "off"',
  ],
  MFI_GATEWAY_OPERATOR_AUTH: [onOff, "on or off"],
  MFI_GATEWAY_ALLOW_OPEN_ROUTES: [onOff, "on or off"],
  MFI_GATEWAY_API_KEYS: [z.string().regex(/^[^,\s]+(,[^,\s]+)*,?$/), "comma-separated keys without spaces"],
  MFI_GATEWAY_MAX_CONNECTIONS: [int(1, 1_000_000), "a whole number of sockets"],
  MFI_GATEWAY_REQUEST_TIMEOUT_MS: [int(1000, 3_600_000), "milliseconds, 1000..3600000"],
  MFI_GATEWAY_MQTT_URL: [
    z.string().regex(/^(mqtts?|wss?):\/\/[^\s]+$/),
    "a broker URL: mqtt://, mqtts://, ws:// or wss://",
  ],
  MFI_GATEWAY_MQTT_PROTOCOL: [z.enum(["4", "5"]).transform((v) => Number(v) as 4 | 5), "4 (MQTT 3.1.1) or 5"],
} as const satisfies Record<string, readonly [z.ZodType, string]>;

type Parsed = { [K in keyof typeof VARS]?: z.output<(typeof VARS)[K][0]> };

/** Parse every gateway variable that is set (empty counts as unset); throws ConfigError for the first bad one. */
export function parseGatewayEnv(env: Record<string, string | undefined>): ServeGatewayConfig {
  const v: Parsed = {};
  for (const [name, [schema, expected]] of Object.entries(VARS) as [
    keyof typeof VARS,
    readonly [z.ZodType, string],
  ][]) {
    const raw = env[name];
    if (raw === undefined || raw === "") continue;
    const r = schema.safeParse(raw);
    if (!r.success) throw new ConfigError(name, raw, expected);
    (v as Record<string, unknown>)[name] = r.data;
  }
  if (v.MFI_DASHBOARD_PROTECT_METRICS && !v.MFI_DASHBOARD_TOKEN)
    throw new ConfigError("MFI_DASHBOARD_PROTECT_METRICS", "1", "MFI_DASHBOARD_TOKEN to be set as well");
  if (v.MFI_GATEWAY_MARKET && !v.MFI_RPC_URL)
    throw new ConfigError("MFI_GATEWAY_MARKET", v.MFI_GATEWAY_MARKET, "MFI_RPC_URL to be set as well");
  const skew = v.MFI_GATEWAY_MAX_SKEW_MS;
  const rate = v.MFI_GATEWAY_RATE;
  return {
    dbPath: v.MFI_GATEWAY_DB ?? ".mfi/gateway.sqlite",
    logLevel: v.MFI_LOG_LEVEL,
    dashboard: v.MFI_GATEWAY_DASHBOARD ?? true,
    metrics: v.MFI_GATEWAY_METRICS ?? true,
    dashboardToken: v.MFI_DASHBOARD_TOKEN,
    protectMetrics: v.MFI_DASHBOARD_PROTECT_METRICS ?? false,
    rpcUrl: v.MFI_RPC_URL,
    marketAddress: v.MFI_GATEWAY_MARKET,
    marketAudiences: v.MFI_GATEWAY_AUDIENCE?.split(","),
    port: v.MFI_GATEWAY_PORT ?? 0,
    hostname: v.MFI_GATEWAY_HOST ?? "127.0.0.1",
    chainId: v.MFI_GATEWAY_CHAIN_ID,
    registry: v.MFI_GATEWAY_REGISTRY,
    verifyWorkers: v.MFI_GATEWAY_VERIFY_WORKERS,
    maxClockSkewMs: skew === "off" ? null : skew,
    rateLimit:
      rate === "off" ? false : rate === undefined ? undefined : { perSecond: rate, burst: Math.max(1, 2 * rate) },
    operatorAuth: v.MFI_GATEWAY_OPERATOR_AUTH ?? true,
    allowOpenRoutes: v.MFI_GATEWAY_ALLOW_OPEN_ROUTES ?? false,
    apiKeys: v.MFI_GATEWAY_API_KEYS?.split(",").filter(Boolean),
    maxConnections: v.MFI_GATEWAY_MAX_CONNECTIONS,
    requestTimeoutMs: v.MFI_GATEWAY_REQUEST_TIMEOUT_MS,
    mqttUrl: v.MFI_GATEWAY_MQTT_URL,
    mqttProtocol: v.MFI_GATEWAY_MQTT_PROTOCOL,
  };
}
