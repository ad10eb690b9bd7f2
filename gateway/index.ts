/**
 * gateway: signed readings in, durably stored. Public surface for other layers (the epoch worker, the devnet, the CLI).
 */
export { createGateway, type Gateway, type GatewayOptions } from "./app.ts";
export {
  startGateway,
  serveGateway,
  type RunningGateway,
  type StartGatewayOptions,
  type ServedGateway,
  type ServeGatewayConfig,
} from "./server.ts";
export { storeDirectory, type DeviceDirectory } from "./directory.ts";
export { chainKeyDirectory, registryKeyStatus, type KeyStatus, type KeyStatusReader } from "./chain-keys.ts";
export { createVerifier, type Verifier, type VerifierOptions } from "./verify-pool.ts";
export { GatewayError, type GatewayErrorOptions } from "./errors.ts";
export { ingest, ingestAckOf, type IngestDeps } from "./ingest.ts";
export { storedReadingJson } from "./routes/readings.ts";
export type { RateLimitOptions } from "./rate-limit.ts";
export { ethersMarketReader, type MarketChainReader, type MarketOptions, type MarketStream } from "./market/index.ts";
export { startMqttIngest, type MqttIngest, type MqttIngestOptions } from "./mqtt/subscriber.ts";
export { startEmbeddedBroker, type EmbeddedBroker } from "./mqtt/broker.ts";
export { mqttIngestMetrics } from "./mqtt/metrics.ts";
