/**
 * Where group commits run: inline on the store's connection (":memory:" and tests) or on a writer thread with its
 * own connection (files), so that fsync never blocks the event loop.
 */
import type Database from "better-sqlite3";
import { Worker } from "node:worker_threads";
import { groupAppender, type AppendJob, type AppendOutcome } from "./append.ts";

export interface Writer {
  run(jobs: AppendJob[]): Promise<AppendOutcome[]>;
  close(): Promise<void>;
}

export function inlineWriter(db: Database.Database): Writer {
  const append = groupAppender(db);
  return { run: async (jobs) => append(jobs), close: async () => {} };
}

export function threadWriter(path: string, synchronous: string): Writer {
  const worker = new Worker(new URL("../thread-boot.mjs", import.meta.url), {
    workerData: { entry: new URL("./writer-thread.ts", import.meta.url).href, path, synchronous },
    execArgv: [],
  });
  worker.unref();
  const waiting = new Map<number, { resolve(o: AppendOutcome[]): void; reject(e: unknown): void }>();
  let nextId = 1;
  let failed: Error | undefined;
  worker.on("message", (m: { id: number; outcomes?: AppendOutcome[]; fatal?: string }) => {
    const w = waiting.get(m.id);
    if (!w) return;
    waiting.delete(m.id);
    if (waiting.size === 0) worker.unref();
    if (m.outcomes) w.resolve(m.outcomes);
    else w.reject(new Error(`store writer: ${m.fatal}`));
  });
  worker.on("error", (e) => {
    failed = e;
    for (const w of waiting.values()) w.reject(e);
    waiting.clear();
  });
  return {
    run(jobs) {
      if (failed) return Promise.reject(failed);
      return new Promise((resolve, reject) => {
        const id = nextId++;
        waiting.set(id, { resolve, reject });
        worker.ref();
        worker.postMessage({ id, jobs });
      });
    },
    async close() {
      if (!failed) {
        worker.ref();
        await new Promise<void>((resolve) => {
          worker.once("message", () => resolve());
          worker.once("exit", () => resolve());
          worker.postMessage({ close: true });
        });
      }
      await worker.terminate();
    },
  };
}

