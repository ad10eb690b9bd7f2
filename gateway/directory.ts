/**
 * The gateway's view of which devices exist and with which keys. Local (the gateway's own store, from signed
 * registrations) for now; an on-chain DeviceRegistry follower implements the same interface later.
 */
import type { DeviceRecord, ReadingStore } from "../store/index.ts";

export interface DeviceDirectory {
  get(deviceId: bigint): Promise<DeviceRecord | undefined>;
  /** Record a verified registration; `created` is false when the device was already known. */
  register(device: DeviceRecord): Promise<{ created: boolean; device: DeviceRecord }>;
  list(opts?: { after?: bigint; limit?: number }): Promise<DeviceRecord[]>;
  /** Devices held in memory, when the directory caches (tests, metrics). */
  cached?(): number;
}

/**
 * Directory backed by the store, with a cache: device keys never change once registered. The cache holds at most
 * `maxCached` devices (default 100,000), dropping the least recently used, so registration spam cannot grow it.
 */
export function storeDirectory(store: ReadingStore, opts: { maxCached?: number } = {}): DeviceDirectory {
  const max = opts.maxCached ?? 100_000;
  const cache = new Map<bigint, DeviceRecord>();
  const remember = (d: DeviceRecord) => {
    cache.delete(d.deviceId);
    cache.set(d.deviceId, d);
    if (cache.size > max) cache.delete(cache.keys().next().value!);
  };
  return {
    async get(deviceId) {
      const hit = cache.get(deviceId);
      if (hit) {
        remember(hit);
        return hit;
      }
      const d = await store.getDevice(deviceId);
      if (d) remember(d);
      return d;
    },
    async register(device) {
      const res = await store.insertDevice(device);
      remember(res.device);
      return res;
    },
    cached: () => cache.size,
    list: (opts) => store.listDevices(opts),
  };
}
