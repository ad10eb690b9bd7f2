/**
 * The gateway's view of which devices exist and with which keys. Local (the gateway's own store, from signed
 * registrations) for now; an on-chain DeviceRegistry follower implements the same interface later.
 */
import type { DeviceRecord, Store } from "./store/types.ts";

export interface DeviceDirectory {
  get(deviceId: bigint): Promise<DeviceRecord | undefined>;
  /** Record a verified registration; `created` is false when the device was already known. */
  register(device: DeviceRecord): Promise<{ created: boolean; device: DeviceRecord }>;
  list(opts?: { after?: bigint; limit?: number }): Promise<DeviceRecord[]>;
}

/** Directory backed by the store, with a small cache: device keys never change once registered. */
export function storeDirectory(store: Store): DeviceDirectory {
  const cache = new Map<bigint, DeviceRecord>();
  return {
    async get(deviceId) {
      const hit = cache.get(deviceId);
      if (hit) return hit;
      const d = await store.getDevice(deviceId);
      if (d) cache.set(deviceId, d);
      return d;
    },
    async register(device) {
      const res = await store.insertDevice(device);
      cache.set(res.device.deviceId, res.device);
      return res;
    },
    list: (opts) => store.listDevices(opts),
  };
}
