/**
 * The gateway's storage interface: devices, append-only readings (unique per deviceId + seq) and operator API keys.
 * Async so a Postgres adapter fits behind it unchanged; SQLite (./sqlite.ts) is the embedded default.
 */
import type { PublicKey, Signature, SignedReading } from "../device-sdk/index.ts";

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

export interface Migration {
  /** Unique, namespaced by owner: "gateway/001-init", "worker/001-epochs". Applied once, in list order. */
  id: string;
  sql: string;
}

export interface Store {
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

  /** Readiness probe: the database answers. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}
