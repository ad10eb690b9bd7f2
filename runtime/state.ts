/**
 * Applet state: a key-value store per (applet, device), carried between epochs by the caller. The public shape is
 * plain JSON so it can be stored anywhere: { [deviceId decimal]: { [key hex]: value hex } }.
 * stateRoot = sha256("mfi.state.v1" ‖ canonical encoding), the encoding sorted by deviceId then key bytes.
 */
import { DOMAIN } from "./abi.ts";
import { fromHex, taggedDigest, u256ToLE } from "./digest.ts";

export type AppletState = Record<string, Record<string, string>>;

// Helpers live at module level: closures made inside stateRoot would be re-created (and, under tsx, re-named) per run.
const u32 = (n: number) => Uint8Array.of(n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24);
const byId = (a: [bigint, Record<string, string>], b: [bigint, Record<string, string>]) =>
  a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0;
const byKeyBytes = (a: string, b: string) => Buffer.compare(Buffer.from(a, "hex"), Buffer.from(b, "hex"));
const EMPTY_ROOT = taggedDigest(DOMAIN.state);

export function stateRoot(state: AppletState): string {
  const entries = Object.entries(state);
  if (entries.length === 0) return EMPTY_ROOT;
  const parts: Uint8Array[] = [];
  const devices = entries.map(([d, kv]): [bigint, Record<string, string>] => [BigInt(d), kv]).sort(byId);
  for (const [d, kv] of devices) {
    const keys = Object.keys(kv).sort(byKeyBytes);
    if (!keys.length) continue;
    parts.push(u256ToLE(d), u32(keys.length));
    for (const k of keys) {
      const key = fromHex(k);
      const val = fromHex(kv[k]!);
      parts.push(u32(key.length), key, u32(val.length), val);
    }
  }
  return taggedDigest(DOMAIN.state, ...parts);
}

/** A copy-on-write view used during one run; commit() yields the new state, a trap simply drops it. */
export class StateView {
  private changes = new Map<string, Map<string, Uint8Array | null>>();
  constructor(private readonly base: AppletState) {}

  get(device: string, keyHex: string): Uint8Array | undefined {
    const c = this.changes.get(device)?.get(keyHex);
    if (c === null) return undefined;
    if (c) return c;
    const v = this.base[device]?.[keyHex];
    return v === undefined ? undefined : fromHex(v);
  }

  set(device: string, keyHex: string, value: Uint8Array | null): void {
    let m = this.changes.get(device);
    if (!m) this.changes.set(device, (m = new Map()));
    m.set(keyHex, value);
  }

  commit(): AppletState {
    const out: AppletState = {};
    for (const [d, kv] of Object.entries(this.base)) out[d] = { ...kv };
    for (const [d, kv] of this.changes) {
      const dev = (out[d] ??= {});
      for (const [k, v] of kv) {
        if (v === null) delete dev[k];
        else dev[k] = Buffer.from(v).toString("hex");
      }
      if (!Object.keys(dev).length) delete out[d];
    }
    return out;
  }
}
