/**
 * The host side of the applet world (toolchain/wit/applet.wit) for a component transpiled by jco, over a runtime
 * Store: the same input bytes, state view, journal format and PRNG as the core Linker, so a component run can be
 * compared byte for byte with a core run. No fuel: a component host bounds execution its own way.
 */
import { JOURNAL_KIND, MAX_STATE_KEY_BYTES, MAX_STATE_VALUE_BYTES } from "../runtime/index.ts";
import { leToU256, toHex } from "../runtime/index.ts";
import { JournalLimitExceeded } from "../runtime/index.ts";
import type { Store } from "../runtime/index.ts";
import { HostTrap, Trap } from "../runtime/index.ts";

/** jco's JS shape of `interface host` (camelCase names; u64 as bigint; option as value | undefined). */
export interface AppletHostImports {
  log(msg: string): void;
  inputLen(): number;
  inputRead(offset: number, len: number): Uint8Array;
  stateGet(device: Uint8Array, key: Uint8Array, cap: number): [number, Uint8Array] | undefined;
  stateSet(device: Uint8Array, key: Uint8Array, value: Uint8Array | undefined): void;
  emit(record: Uint8Array): void;
  claim(device: Uint8Array, output: bigint): void;
  random(): bigint;
  abort(msg: string): void;
}

const utf8 = new TextEncoder();

export function componentHost(store: Store): AppletHostImports {
  const journal = (kind: number, payload: Uint8Array) => {
    try {
      store.journal.append(kind, payload);
    } catch (err) {
      if (err instanceof JournalLimitExceeded) throw new HostTrap(Trap.HostError, err.message);
      throw err;
    }
  };
  const device = (d: Uint8Array, what: string) => {
    if (d.length !== 32) throw new HostTrap(Trap.HostError, `${what}: a deviceId is 32 bytes, got ${d.length}`);
    return leToU256(d).toString();
  };
  const key = (k: Uint8Array, what: string) => {
    if (k.length === 0 || k.length > MAX_STATE_KEY_BYTES)
      throw new HostTrap(Trap.HostError, `${what}: key length ${k.length} must be in [1, ${MAX_STATE_KEY_BYTES}]`);
    return toHex(k);
  };
  return {
    log: (msg) => journal(JOURNAL_KIND.log, utf8.encode(msg)),
    inputLen: () => store.input.length,
    inputRead: (offset, len) => store.input.slice(offset, Math.min(store.input.length, offset + len)),
    stateGet: (d, k, cap) => {
      const v = store.state.get(device(d, "state-get"), key(k, "state-get"));
      return v ? [v.length, v.slice(0, cap)] : undefined;
    },
    stateSet: (d, k, value) => {
      if (value && value.length > MAX_STATE_VALUE_BYTES)
        throw new HostTrap(
          Trap.HostError,
          `state-set: value of ${value.length} bytes is above the limit of ${MAX_STATE_VALUE_BYTES}`,
        );
      store.state.set(device(d, "state-set"), key(k, "state-set"), value ? value.slice() : null);
    },
    emit: (record) => journal(JOURNAL_KIND.record, record.slice()),
    claim: (d, output) => {
      const id = d.slice();
      device(id, "claim");
      let fresh: boolean;
      try {
        fresh = store.journal.claim(id, output);
      } catch (err) {
        if (err instanceof JournalLimitExceeded) throw new HostTrap(Trap.HostError, err.message);
        throw err;
      }
      if (!fresh)
        throw new HostTrap(
          Trap.HostError,
          `claim: device ${leToU256(id)} already has a claim in this run (one claim per device per epoch)`,
        );
    },
    random: () => store.nextRandom(),
    abort: (msg) => {
      throw new HostTrap(Trap.AppletAbort, msg);
    },
  };
}
