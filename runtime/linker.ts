/**
 * Linker: the only place host functions exist. Each one implements an import of abi.ts IMPORTS, charges fuel
 * (HOST_FUEL, published in docs/fuel.md) and bounds-checks every pointer it is given. Anything wrong stops the
 * run with a trap; the host never reads or writes outside the applet's memory.
 */
import {
  IMPORT_MODULE,
  IMPORTS,
  JOURNAL_KIND,
  MAX_STATE_KEY_BYTES,
  MAX_STATE_VALUE_BYTES,
  type ImportName,
} from "./abi.ts";
import { toHex } from "./digest.ts";
import { JournalLimitExceeded } from "./journal.ts";
import { MEMORY_IMPORT } from "./fuel.ts";
import type { Store } from "./store.ts";
import { HostTrap, Trap } from "./trap.ts";

/** Fuel of host calls: a base per call plus one unit per 8 bytes moved. */
export const HOST_FUEL = { call: 20, stateCall: 50, bytesPerUnit: 8 } as const;

type HostFn = (...args: (number | bigint)[]) => number | bigint | void;

const text = new TextDecoder("utf-8", { fatal: false });

export class Linker {
  /** The store host calls act on. Runs on one thread never interleave, so one slot serves every instance. */
  private store: Store | null = null;
  /** Built once per Linker: making nine closures per run cost more than instantiating a small module. */
  private readonly host = this.hostFunctions();

  /** Route host calls to `store` (Instance.run does this before entering the applet). */
  bind(store: Store): void {
    this.store = store;
  }

  /** The import object for one instance: the `mfi` host functions (bound to `store`) and the run's memory. */
  imports(store: Store, memory: WebAssembly.Memory): WebAssembly.Imports {
    this.store = store;
    return { [IMPORT_MODULE]: this.host, [MEMORY_IMPORT.module]: { [MEMORY_IMPORT.name]: memory } };
  }

  private hostFunctions(): WebAssembly.ModuleImports {
    const cur = (): Store => this.store!;
    const fuel = (store: Store, base: number, bytes: number) =>
      store.consumeFuel(base + Math.ceil(bytes / HOST_FUEL.bytesPerUnit));
    const journal = (store: Store, kind: number, payload: Uint8Array) => {
      try {
        store.journal.append(kind, payload);
      } catch (err) {
        if (err instanceof JournalLimitExceeded) throw new HostTrap(Trap.HostError, err.message);
        throw err;
      }
    };
    const device = (store: Store, ptr: number, what: string) => toDeviceKey(store.view(ptr, 32, what));

    const host: Record<ImportName, HostFn> = {
      log: (ptr, len) => {
        const store = cur();
        const text = store.view(Number(ptr), Number(len), "log");
        fuel(store, HOST_FUEL.call, text.length);
        journal(store, JOURNAL_KIND.log, text);
      },
      input_len: () => {
        const store = cur();
        fuel(store, HOST_FUEL.call, 0);
        return store.input.length;
      },
      input_read: (dst, offset, len) => {
        const store = cur();
        const off = Number(offset) >>> 0;
        const n = Math.max(0, Math.min(Number(len) >>> 0, store.input.length - off));
        fuel(store, HOST_FUEL.call, n);
        const target = store.view(Number(dst), Number(len), "input_read");
        target.set(store.input.subarray(off, off + n));
        return n;
      },
      state_get: (dev, keyPtr, keyLen, dst, cap) => {
        const store = cur();
        const key = stateKey(store, Number(keyPtr), Number(keyLen), "state_get");
        const id = device(store, Number(dev), "state_get device");
        const target = store.view(Number(dst), Number(cap), "state_get value");
        const v = store.state.get(id, key);
        fuel(store, HOST_FUEL.stateCall, (v?.length ?? 0) + key.length / 2);
        if (!v) return -1;
        target.set(v.subarray(0, Math.min(v.length, target.length)));
        return v.length;
      },
      state_set: (dev, keyPtr, keyLen, valPtr, valLen) => {
        const store = cur();
        const key = stateKey(store, Number(keyPtr), Number(keyLen), "state_set");
        const id = device(store, Number(dev), "state_set device");
        if (Number(valLen) === -1) {
          fuel(store, HOST_FUEL.stateCall, key.length / 2);
          store.state.set(id, key, null);
          return;
        }
        const l = Number(valLen) >>> 0;
        if (l > MAX_STATE_VALUE_BYTES)
          throw new HostTrap(
            Trap.HostError,
            `state_set: value of ${l} bytes is above the limit of ${MAX_STATE_VALUE_BYTES}`,
          );
        fuel(store, HOST_FUEL.stateCall, l + key.length / 2);
        store.state.set(id, key, store.view(Number(valPtr), l, "state_set value").slice());
      },
      emit: (ptr, len) => {
        const store = cur();
        const record = store.view(Number(ptr), Number(len), "emit");
        fuel(store, HOST_FUEL.call, record.length);
        journal(store, JOURNAL_KIND.record, record);
      },
      claim: (dev, output) => {
        const store = cur();
        fuel(store, HOST_FUEL.call, 40);
        const id = store.view(Number(dev), 32, "claim device");
        let fresh: boolean;
        try {
          fresh = store.journal.claim(id, output as bigint);
        } catch (err) {
          if (err instanceof JournalLimitExceeded) throw new HostTrap(Trap.HostError, err.message);
          throw err;
        }
        if (!fresh)
          throw new HostTrap(
            Trap.HostError,
            `claim: device ${toDeviceKey(id)} already has a claim in this run (one claim per device per epoch)`,
          );
      },
      random: () => {
        const store = cur();
        fuel(store, HOST_FUEL.call, 0);
        return BigInt.asIntN(64, store.nextRandom());
      },
      abort: (ptr, len) => {
        const bytes = cur().view(Number(ptr), Math.min(Number(len) >>> 0, 4096), "abort");
        throw new HostTrap(Trap.AppletAbort, text.decode(bytes));
      },
    };
    // The ABI table is the source of truth: a host function without an import spec (or the reverse) is a bug.
    for (const name of Object.keys(IMPORTS))
      if (!(name in host)) throw new Error(`Linker is missing host function ${name}`);
    return host as unknown as WebAssembly.ModuleImports;
  }
}

/** deviceId (32 LE bytes) → decimal string, the key of AppletState. */
function toDeviceKey(le: Uint8Array): string {
  let v = 0n;
  for (let i = le.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(le[i]!);
  return v.toString();
}

function stateKey(store: Store, ptr: number, len: number, what: string): string {
  const l = len >>> 0;
  if (l === 0 || l > MAX_STATE_KEY_BYTES)
    throw new HostTrap(Trap.HostError, `${what}: key length ${l} must be in [1, ${MAX_STATE_KEY_BYTES}]`);
  return toHex(store.view(ptr, l, `${what} key`));
}
