/**
 * The storage interfaces of every layer (persistence lives only behind these): `ReadingStore` (devices, append-only
 * readings unique per deviceId + seq, operator API keys), `NonceStore` (single-use market request nonces) and, in
 * ./worker-types.ts, `WorkerStore`. All async, so a Postgres implementation fits behind them unchanged; SQLite
 * (./sqlite/) is the embedded one.
 */
import type { PublicKey, Signature, SignedReading } from "../device-sdk/index.ts";
import type { WorkerStore } from "./worker-types.ts";
import type { BatchStore } from "./batch-types.ts";

export interface DeviceRecord {
  deviceId: bigint;
  publicKey: PublicKey;
  /** EVM address (0x…) the device registered to. */
  owner: string;
  chainId: bigint;
  /** DeviceRegistry address the registration message named. */
  registry: string;
  /** The device's signature over registrationMessage(owner, chainId, registry). */
  signature: Signature;
  registeredAt: number;
}

export interface StoredReading extends SignedReading {
  /** Unix ms at which the gateway made the reading durable (part of its receipt). */
  receivedAt: number;
}

/** Inclusive ranges; readings come back in ascending seq. */
export interface ListReadingsQuery {
  deviceId: bigint;
  fromSeq?: bigint;
  toSeq?: bigint;
  fromTs?: bigint;
  toTs?: bigint;
  limit?: number;
}

export interface ListDevicesQuery {
  /** Keyset pagination: devices registered after this one (by registration order). */
  after?: bigint;
  limit?: number;
}

export type AppendResult =
  | { ok: true; readings: StoredReading[] }
  /** The chain moved under us (a concurrent append): nothing was written; the device's head is given. */
  | { ok: false; head: { seq: bigint; hash: bigint } | undefined };

export interface ReadingStore {
  insertDevice(device: DeviceRecord): Promise<{ created: boolean; device: DeviceRecord }>;
  getDevice(deviceId: bigint): Promise<DeviceRecord | undefined>;
  listDevices(query?: ListDevicesQuery): Promise<DeviceRecord[]>;

  /**
   * Append consecutive readings of one device in one durable transaction, if and only if the first extends the
   * stored head (seq = head.seq + 1 and prev = head.hash, or seq 1 on an empty chain). The caller has checked the
   * links inside the batch and the signatures.
   */
  appendReadings(deviceId: bigint, readings: readonly SignedReading[], receivedAt: number): Promise<AppendResult>;
  getReading(deviceId: bigint, seq: bigint): Promise<StoredReading | undefined>;
  lastReading(deviceId: bigint): Promise<StoredReading | undefined>;
  listReadings(query: ListReadingsQuery): Promise<StoredReading[]>;
  countReadings(deviceId?: bigint): Promise<number>;

  /** Store sha256(key) under name; returns the plaintext key, shown once. */
  createApiKey(name: string): Promise<string>;
  /** The key's name if the key is known. */
  checkApiKey(key: string): Promise<string | undefined>;

  /** The first `limit` devices (registration order) with their chain head: what the dashboard lists. */
  listDeviceHeads(limit: number): Promise<DeviceHead[]>;
  /** How many devices are registered. */
  deviceCount(): Promise<number>;
  /**
   * Devices that have reported before but whose newest reading arrived before `receivedBefore` (ms): at most `limit`
   * of them (registration order) and how many there are.
   */
  staleDevices(receivedBefore: number, limit: number): Promise<{ count: number; devices: string[] }>;
  /** Readings stored in all, and per minute (minute = floor(ms / 60000)) from `sinceMinute` on. */
  readingActivity(sinceMinute: number): Promise<{ total: number; minutes: { minute: number; n: number }[] }>;

  /** Readiness probe: the database answers. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

export interface DeviceHead {
  deviceId: string;
  owner: string;
  lastSeq: number | null;
  lastTs: number | null;
  /** values of the head reading, as decimal strings. */
  lastValues: string[];
}

/** Spent access-request nonces of the data market. */
export interface NonceStore {
  /** Marks (buyer, nonce) spent; false when it was spent before. */
  consume(buyer: string, nonce: bigint, expirySeconds: bigint, nowMs: number): Promise<boolean>;
}

/**
 * The three stores of one database, as `openStore` gives them: the readings (the object itself), the worker's runs and
 * claims, the market's nonces. Layers type against this, never against an implementation.
 */
export interface StoreSet extends ReadingStore {
  readonly worker: WorkerStore;
  readonly nonces: NonceStore;
  /** The worker's batches (issue 26), on SQLite and on Postgres. */
  readonly batches: BatchStore;
}
