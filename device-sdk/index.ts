/**
 * device-sdk: keys, the signed hash chain, EdDSA-Poseidon backends and the device client. Portable core (fetch, Web
 * Crypto); Node-only helpers (file storage, key files) are in ./node.ts.
 */
export * from "./chain.ts";
export * from "./epoch.ts";
export * from "./schedule.ts";
export * from "./field.ts";
export type { EddsaBackend, PublicKey, Signature, VerifyItem } from "./eddsa-api.ts";
export { buildJsBackend, SUBGROUP_ORDER } from "./eddsa-js.ts";
export { getDefaultBackend, loadBackendByName, usePoseidonOf, backendStatus, type BackendStatus } from "./backend.ts";
export * from "./errors.ts";
export * from "./keys.ts";
export * from "./wire.ts";
export * from "./signer.ts";
export * from "./storage.ts";
export * from "./client.ts";
export * from "./mqtt-topics.ts";
export { mqttTransport, type MqttTransport, type MqttTransportOptions } from "./mqtt-transport.ts";
export { verifyReading, ReadingVerificationError, type ServedReading } from "./verify-reading.ts";
export * from "./market-request.ts";
export * from "./attestation.ts";
export {
  requestAccess,
  readHistory,
  subscribeLive,
  ServedRangeError,
  type TypedDataSigner,
  type MarketTarget,
  type RangeQuery,
  type SignedAccessRequest,
  type BuyerReading,
  type HistoryResult,
  type LiveEvent,
} from "./market.ts";
