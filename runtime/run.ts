/** One call from readings to a RunResult: encode the input, make a Store, instantiate, run. */
import type { Engine } from "./engine.ts";
import type { Module } from "./module.ts";
import { encodeInputTransient, type AppletReading, type InputEpoch } from "./input.ts";
import { Instance, type RunResult } from "./instance.ts";
import type { AppletState } from "./state.ts";
import { Store } from "./store.ts";

export interface RunOptions {
  /** Readings of the epoch (any order; the encoding is canonical). Ignored when `input` is given. */
  readings?: readonly AppletReading[];
  epoch?: InputEpoch;
  /** Per-applet config blob (input.ts paramConfig for a manifest param). */
  config?: Uint8Array;
  /** A pre-encoded input (encodeInput); lets a replay run on exactly the stored bytes. */
  input?: Uint8Array;
  state?: AppletState;
  fuel?: number;
}

export function runModule(engine: Pick<Engine, "config">, module: Module, opts: RunOptions): RunResult {
  // The transient buffer is safe here: the run is synchronous and nothing of it outlives the call.
  const input =
    opts.input ?? encodeInputTransient({ readings: opts.readings ?? [], epoch: opts.epoch, config: opts.config });
  const store = new Store(engine, { input, state: opts.state, fuel: opts.fuel });
  return Instance.instantiate(module, store).run();
}
