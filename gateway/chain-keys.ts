/**
 * The gateway follows key rotations on L1: a device directory that refuses a key DeviceRegistry knows but no longer
 * holds valid (revoked, or replaced by a rotation) with the problem `device-key-revoked` (403), so a device whose
 * key was stolen stops filling the store with readings nobody will pay for. Keys the registry does not know are
 * served as before (a devnet registers devices at the gateway before L1; PayoutVault refuses their claims anyway).
 *
 * Why a cache and fail-open: ingest asks the directory for every batch, and a chain read costs a round trip; the
 * answer is kept `cacheMs` (default 5 s) and reads in flight are shared. When the chain cannot be read the last
 * answer (or "valid") stands: the vault, not the gateway, is what keeps a revoked key from earning.
 */
import { Contract, JsonRpcProvider, type Provider } from "ethers";
import type { DeviceDirectory } from "./directory.ts";
import { GatewayError } from "./errors.ts";

/** A key's state on L1: `onChain` false when no device token has it; `owner`: its token's owner (ERC-721 ownerOf). */
export interface KeyStatus {
  onChain: boolean;
  valid: boolean;
  owner?: string;
}

export interface KeyStatusReader {
  keyStatus(deviceId: bigint): Promise<KeyStatus>;
}

const DEVICES_ABI = ["function deviceOf(uint256 deviceId) view returns (address owner, bool active)"];
const ZERO = "0x0000000000000000000000000000000000000000";

/** Reads DeviceRegistry.deviceOf at `registry` through a JSON-RPC URL or an ethers provider (the caller then owns it). */
export function registryKeyStatus(o: {
  rpcUrl?: string;
  provider?: Provider;
  registry: string;
}): KeyStatusReader & { close(): void } {
  const own = o.provider ? undefined : new JsonRpcProvider(o.rpcUrl, undefined, { staticNetwork: true });
  const registry = new Contract(o.registry, DEVICES_ABI, o.provider ?? own!);
  return {
    async keyStatus(deviceId) {
      const [owner, active] = (await registry.getFunction("deviceOf").staticCall(deviceId)) as [string, boolean];
      return owner === ZERO ? { onChain: false, valid: active } : { onChain: true, valid: active, owner };
    },
    close: () => own?.destroy(),
  };
}

/** `inner` with L1's key state applied on `get`; bounded (`maxCached`, default 10,000 keys). */
export function chainKeyDirectory(
  inner: DeviceDirectory,
  reader: KeyStatusReader,
  opts: { cacheMs?: number; maxCached?: number; now?: () => number } = {},
): DeviceDirectory & KeyStatusReader {
  const cacheMs = opts.cacheMs ?? 5_000;
  const max = opts.maxCached ?? 10_000;
  const now = opts.now ?? Date.now;
  const cache = new Map<bigint, { at: number; status: KeyStatus }>();
  const inFlight = new Map<bigint, Promise<KeyStatus>>();

  async function status(deviceId: bigint): Promise<KeyStatus> {
    const hit = cache.get(deviceId);
    if (hit && now() - hit.at < cacheMs) return hit.status;
    let p = inFlight.get(deviceId);
    if (!p) {
      p = reader
        .keyStatus(deviceId)
        .then((s) => {
          cache.delete(deviceId);
          cache.set(deviceId, { at: now(), status: s });
          if (cache.size > max) cache.delete(cache.keys().next().value!);
          return s;
        })
        .catch(() => hit?.status ?? { onChain: false, valid: true })
        .finally(() => inFlight.delete(deviceId));
      inFlight.set(deviceId, p);
    }
    return p;
  }

  return {
    keyStatus: status,
    async get(deviceId) {
      const device = await inner.get(deviceId);
      if (!device) return device;
      const s = await status(deviceId);
      if (s.onChain && !s.valid)
        throw new GatewayError(
          403,
          "device-key-revoked",
          `the key of device ${deviceId} was revoked or replaced on L1`,
          {
            details:
              "DeviceRegistry no longer holds this key valid (revokeKey or rotateKey): readings it signs are refused. Register the device's new key with the gateway and send readings signed by it.",
          },
        );
      return device;
    },
    register: (device) => inner.register(device),
    list: (o) => inner.list(o),
    cached: inner.cached,
  };
}
