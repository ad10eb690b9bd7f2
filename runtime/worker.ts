/**
 * Running applets in a worker thread with a wall-clock watchdog: the second line of defence for host bugs (fuel is
 * the normal limit). A run that outlives the watchdog terminates the thread and ends in Trap.HostError; the next
 * run starts a fresh thread. The in-process path (runModule) stays the fast path for benches and tests.
 */
import { Worker } from "node:worker_threads";
import { Engine, type EngineConfig } from "./engine.ts";
import { RuntimeBaseError } from "./errors.ts";
import type { Module } from "./module.ts";
import type { RunResult } from "./instance.ts";
import { encodeInput } from "./input.ts";
import type { RunOptions } from "./run.ts";
import { stateRoot } from "./state.ts";
import { DOMAIN } from "./abi.ts";
import { taggedDigest } from "./digest.ts";
import { Trap } from "./trap.ts";

interface Pending {
  worker: Worker;
  resolve: (r: RunResult) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

export class WorkerRunner {
  private worker: Worker | null = null;
  /** Resolves when the current worker has loaded the runtime (the watchdog starts only then). */
  private ready: Promise<void> | null = null;
  private pending = new Map<number, Pending>();
  private nextId = 1;
  readonly engine: Engine;

  /** Validation and metering run here in the caller's thread (they are bounded); only runs go to the worker. */
  constructor(engine: Engine | EngineConfig = {}) {
    this.engine = engine instanceof Engine ? engine : new Engine(engine);
  }

  private spawn(): Worker {
    const w = new Worker(new URL("./worker-boot.mjs", import.meta.url), { workerData: { config: this.engine.config }, execArgv: [] });
    let markReady!: () => void;
    let failStart!: (e: Error) => void;
    this.ready = new Promise<void>((res, rej) => ((markReady = res), (failStart = rej)));
    this.ready.catch(() => {});
    w.on("message", (msg: { ready?: boolean; id: number; result?: RunResult; error?: Record<string, unknown> }) => {
      if (msg.ready) return markReady();
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      clearTimeout(p.timer);
      if (!this.pending.size) w.unref();
      if (msg.result) p.resolve(msg.result);
      else p.reject(reviveError(msg.error!));
    });
    w.on("error", (err) => {
      failStart(err);
      this.failAll(w, err);
    });
    w.on("exit", () => {
      failStart(new Error("the runtime worker exited while starting"));
      if (this.worker === w) this.worker = null;
      this.failAll(w, new Error("the runtime worker exited"));
    });
    w.unref();
    return w;
  }

  private failAll(w: Worker, err: Error): void {
    for (const [id, p] of this.pending) {
      if (p.worker !== w) continue;
      clearTimeout(p.timer);
      this.pending.delete(id);
      p.reject(err);
    }
  }

  /**
   * Run an applet (Wasm bytes or a compiled Module) in the worker. Resolves with the run result; a watchdog kill
   * is a HostError trap in it. A refused module throws ValidationError here, before any thread is involved.
   */
  async run(applet: Uint8Array | Module, opts: RunOptions, timeoutMs = this.engine.config.watchdogMs): Promise<RunResult> {
    const module = applet instanceof Uint8Array ? this.engine.compile(applet) : applet;
    const worker = (this.worker ??= this.spawn());
    // Keep the process alive while a run is under way; an idle worker must not hold it open.
    worker.ref();
    try {
      await this.ready;
    } finally {
      if (!this.pending.size) worker.unref();
    }
    const id = this.nextId++;
    return new Promise<RunResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        if (this.worker === worker) this.worker = null;
        void worker.terminate();
        resolve(watchdogResult(module.imageId, opts, timeoutMs));
      }, timeoutMs);
      this.pending.set(id, { worker, resolve, reject, timer });
      worker.ref();
      const { imageId, wasm, metered, compiled, info } = module;
      worker.postMessage({ id, module: { imageId, wasm, metered, compiled, info }, opts });
    });
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = null;
    if (w) await w.terminate();
  }
}

/** What a watchdog kill reports: no journal, state unchanged, the trap says why. Not replayable by design. */
function watchdogResult(imageId: string, opts: RunOptions, ms: number): RunResult {
  const input = opts.input ?? encodeInput({ readings: opts.readings ?? [], epoch: opts.epoch, config: opts.config });
  const state = opts.state ?? {};
  return {
    imageId,
    inputDigest: taggedDigest(DOMAIN.input, input),
    journal: new Uint8Array(0),
    journalDigest: taggedDigest(DOMAIN.journal, new Uint8Array(0)),
    fuelUsed: 0,
    stateRoot: stateRoot(state),
    state,
    trap: { kind: Trap.HostError, message: `the run exceeded the ${ms} ms wall-clock watchdog and its worker was terminated` },
  };
}

function reviveError(e: { name?: string; message?: string }): Error {
  const err = new RuntimeBaseError(`the runtime worker failed: ${e.message}`);
  err.name = String(e.name ?? "RuntimeBaseError");
  return err;
}
