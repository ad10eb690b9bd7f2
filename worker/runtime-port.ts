/**
 * The worker's RunPort on the real runtime: one run per (applet, device, epoch) over that device's readings of the
 * epoch, with the applet's state for that device carried between epochs (stored as the runtime's canonical JSON).
 * Replay (replay.ts) rebuilds exactly the same input from the stored readings, so anyone can re-check a run.
 */
import { decodeJournal, Engine, paramConfig, runModule, type AppletState, type RunResult } from "../runtime/index.ts";
import type { EpochWindow } from "../device-sdk/index.ts";
import type { StoredReading } from "../store/index.ts";
import type { AppletSpec, RunOutcome, RunPort } from "./ports.ts";
import { AppletLoadError } from "./errors.ts";

const text = new TextEncoder();
const untext = new TextDecoder();

export function encodeState(state: AppletState): Uint8Array {
  return text.encode(JSON.stringify(state));
}

export function decodeState(bytes: Uint8Array | undefined): AppletState | undefined {
  return bytes && bytes.length ? (JSON.parse(untext.decode(bytes)) as AppletState) : undefined;
}

/** Run one applet exactly as the worker does (used by the RunPort and by replay). */
export function runAppletFor(
  engine: Engine,
  a: {
    applet: Pick<AppletSpec, "wasm" | "param">;
    epoch: EpochWindow;
    readings: readonly StoredReading[];
    state: Uint8Array | undefined;
  },
): RunResult {
  const module = engine.compile(a.applet.wasm);
  return runModule(engine, module, {
    readings: a.readings.map((r) => ({ deviceId: r.deviceId, seq: r.seq, ts: r.ts, values: r.values })),
    epoch: { startMs: a.epoch.startMs, lengthMs: a.epoch.lengthMs },
    config: paramConfig(a.applet.param),
    state: decodeState(a.state),
  });
}

export function runtimeRunPort(engine = new Engine()): RunPort {
  return async (a) => {
    try {
      engine.compile(a.applet.wasm); // cached by imageId: the run below compiles nothing again
    } catch (e) {
      // issue 22: a module the runtime refuses is the applet's fault, the same for every device: say so by class
      throw new AppletLoadError(a.applet.imageId, (e as Error).message, { cause: e as Error });
    }
    const r = runAppletFor(engine, a);
    const claims = r.trap
      ? []
      : decodeJournal(r.journal).claims.map((c) => ({ deviceId: c.deviceId, output: c.output }));
    const outcome: RunOutcome = {
      inputDigest: r.inputDigest,
      journal: r.journal,
      journalDigest: r.journalDigest,
      fuelUsed: BigInt(r.fuelUsed),
      stateRoot: r.stateRoot,
      state: encodeState(r.state),
      trap: r.trap ? { kind: r.trap.kind, message: r.trap.message } : undefined,
      claims,
    };
    return outcome;
  };
}
