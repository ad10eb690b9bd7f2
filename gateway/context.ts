/** What every route file receives: the resolved gateway configuration and its components. */
import type { MiddlewareHandler } from "hono";
import type { EddsaBackend } from "../device-sdk/index.ts";
import type { DeviceDirectory } from "./directory.ts";
import type { IngestDeps } from "./ingest.ts";
import type { RateLimiter } from "./rate-limit.ts";
import type { ReadingStore } from "../store/index.ts";
import type { Verifier } from "./verify-pool.ts";

export interface GatewayContext {
  store: ReadingStore;
  directory: DeviceDirectory;
  verifier: Verifier;
  backend: EddsaBackend;
  chainId: bigint;
  /** DeviceRegistry address registrations must name (lower-case 0x…). */
  registry: string;
  now: () => number;
  maxBodyBytes: number;
  ingest: IngestDeps;
  /** Guards operator endpoints (API key); a no-op when operator auth is off. */
  operator: MiddlewareHandler;
  /** Refused requests per client address (client-budget.ts); undefined: unlimited. */
  failures?: RateLimiter<string>;
  /** Registrations per client address; undefined: unlimited. */
  registrations?: RateLimiter<string>;
  /** The chain's JSON-RPC URL, when configured: /readyz checks it. */
  rpcUrl?: string;
}
