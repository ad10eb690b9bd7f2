/**
 * Durable device state: the chain position and the offline queue, saved together so a crash can never separate a
 * used seq from the reading that used it. Pluggable: memory here, a file in ./node.ts, IndexedDB or flash elsewhere.
 */
import type { WireReading } from "./wire.ts";

export interface PersistedState {
  version: 1;
  deviceId: string;
  /** Last seq used. */
  seq: string;
  lastHash: string;
  /** ts of the last reading (absent in state saved by older SDKs): the next reading may not be older. */
  lastTs?: string;
  /** Batches built but not yet acknowledged, oldest first; each is sent as one request. */
  queue: WireReading[][];
}

export interface DeviceStorage {
  load(): Promise<PersistedState | undefined>;
  /** Must be durable when the promise resolves (the client sends only after that). */
  save(state: PersistedState): Promise<void>;
}

/** For tests and devices that accept losing their place on restart. */
export function memoryStorage(initial?: PersistedState): DeviceStorage & { current(): PersistedState | undefined } {
  let state = initial && structuredClone(initial);
  return {
    load: async () => (state ? structuredClone(state) : undefined),
    save: async (s) => {
      state = structuredClone(s);
    },
    current: () => state,
  };
}
