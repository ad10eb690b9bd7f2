/**
 * machinefi configuration: one schema, read from an optional JSON file (`mfi.config.json` or --config) and from
 * MFI_* environment variables (environment wins), validated with zod. A bad value names its key and what to do.
 */
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { z } from "zod";
import { BaseError } from "../core/index.ts";

const intish = (min: number) => z.coerce.number().int().min(min);

export const configSchema = z.object({
  /** Where the devnet keeps its database, chain state and keys. Omit for a throwaway run in a temp dir. */
  stateDir: z.string().min(1).optional(),
  /** Gateway port (0 = any free port). */
  port: intish(0).max(65535).default(0),
  /** Epoch length in milliseconds. With the default fleet (10 devices, a reading every 5 s, 3 applets) every epoch
   * fits the 16-reading circuits and two provers keep up with the claims. */
  epochMs: intish(1000)
    .max(2 ** 31)
    .default(60_000),
  /** Extra wait after an epoch's end before it is closed, for late readings. */
  epochGraceMs: intish(0).default(1000),
  /** Simulated devices in the devnet fleet. */
  devices: intish(0).max(1000).default(10),
  /** Readings each simulated device posts per second. */
  readingsPerSecond: z.coerce.number().positive().max(1000).default(0.2),
  /** Simulated devices sign only the last reading of each batch of this many (1 = sign every reading). */
  batchSize: intish(1).max(1000).default(2),
  /** RPC of the L1 chain; omit to start an embedded anvil. */
  rpcUrl: z.url().optional(),
  /** Operator key (hex) for deploying and submitting claims; required with rpcUrl. */
  privateKey: z
    .string()
    .regex(/^0x[0-9a-fA-F]{64}$/, "a 0x-prefixed 32-byte hex private key")
    .optional(),
  /** Proofs proved at once (each uses snarkjs worker threads). */
  proverConcurrency: intish(1).max(8).default(2),
  /** Attempts before a claim is marked failed. */
  maxClaimAttempts: intish(1).max(100).default(5),
  /** Run the simulated fleet in the devnet. */
  simulate: z.coerce.boolean().default(true),
  logLevel: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
});

export type Config = z.infer<typeof configSchema>;

const ENV: Record<string, keyof Config> = {
  MFI_STATE_DIR: "stateDir",
  MFI_PORT: "port",
  MFI_EPOCH_MS: "epochMs",
  MFI_EPOCH_GRACE_MS: "epochGraceMs",
  MFI_DEVICES: "devices",
  MFI_READINGS_PER_SECOND: "readingsPerSecond",
  MFI_BATCH_SIZE: "batchSize",
  MFI_RPC_URL: "rpcUrl",
  MFI_PRIVATE_KEY: "privateKey",
  MFI_PROVER_CONCURRENCY: "proverConcurrency",
  MFI_MAX_CLAIM_ATTEMPTS: "maxClaimAttempts",
  MFI_SIMULATE: "simulate",
  MFI_LOG_LEVEL: "logLevel",
};

export class ConfigError extends BaseError {
  override name = "ConfigError";
  constructor(readonly issues: { key: string; message: string; source: string }[]) {
    super(
      `invalid machinefi configuration:\n${issues.map((i) => `  - ${i.key} (${i.source}): ${i.message}`).join("\n")}`,
      {
        metaMessages: ["Fix the value (see docs/configuration.md for every key) and start again."],
        docsPath: "docs/configuration.md",
      },
    );
  }
}

/** Read and validate configuration: defaults < file < environment < explicit overrides (CLI flags). */
export function loadConfig(
  opts: { file?: string; env?: NodeJS.ProcessEnv; overrides?: Partial<Record<keyof Config, unknown>> } = {},
): Config {
  const env = opts.env ?? process.env;
  const sources: Record<string, string> = {};
  let fromFile: Record<string, unknown> = {};
  const file = opts.file ?? (existsSync("mfi.config.json") ? "mfi.config.json" : undefined);
  if (file) {
    const path = resolve(file);
    if (!existsSync(path))
      throw new ConfigError([{ key: "config", message: `file ${path} does not exist`, source: "--config" }]);
    try {
      fromFile = JSON.parse(readFileSync(path, "utf8"));
    } catch (err) {
      throw new ConfigError([
        { key: "config", message: `${path} is not valid JSON: ${(err as Error).message}`, source: path },
      ]);
    }
    const unknown = Object.keys(fromFile).filter((k) => !(k in configSchema.shape));
    if (unknown.length) throw new ConfigError(unknown.map((k) => ({ key: k, message: "unknown key", source: path })));
    for (const k of Object.keys(fromFile)) sources[k] = path;
  }
  const fromEnv: Record<string, unknown> = {};
  for (const [name, key] of Object.entries(ENV)) {
    const v = env[name];
    if (v !== undefined && v !== "") {
      fromEnv[key] = key === "simulate" ? !["0", "false", "no"].includes(v.toLowerCase()) : v;
      sources[key] = `env ${name}`;
    }
  }
  const overrides = Object.fromEntries(Object.entries(opts.overrides ?? {}).filter(([, v]) => v !== undefined));
  for (const k of Object.keys(overrides)) sources[k] = "command line";
  const parsed = configSchema.safeParse({ ...fromFile, ...fromEnv, ...overrides });
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => {
        const key = String(i.path[0] ?? "config");
        return { key, message: i.message, source: sources[key] ?? "default" };
      }),
    );
  }
  const cfg = parsed.data;
  if (cfg.rpcUrl && !cfg.privateKey)
    throw new ConfigError([
      {
        key: "privateKey",
        message: "required when rpcUrl is set (MFI_PRIVATE_KEY)",
        source: sources.rpcUrl ?? "default",
      },
    ]);
  return cfg;
}
