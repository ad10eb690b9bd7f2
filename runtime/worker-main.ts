/**
 * Inside the worker thread: run Modules the parent compiled (validation and metering happen in the parent, so this
 * thread never loads the compiler). Plain data in, plain data out.
 */
import { parentPort, workerData } from "node:worker_threads";
import { Module, type ModuleParts } from "./module.ts";
import { runModule, type RunOptions } from "./run.ts";
import type { EngineConfig } from "./engine.ts";

const config = (workerData as { config: Required<EngineConfig> }).config;

parentPort!.on("message", (msg: { id: number; module: ModuleParts; opts: RunOptions }) => {
  try {
    const result = runModule({ config }, new Module(msg.module), msg.opts);
    parentPort!.postMessage({ id: msg.id, result });
  } catch (err) {
    const e = err as Error;
    parentPort!.postMessage({ id: msg.id, error: { name: e.name, message: e.message } });
  }
});
parentPort!.postMessage({ ready: true });
