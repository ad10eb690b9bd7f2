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
  // Started on the first append, so read-only users of the store (CLI commands, the worker) never pay for it.
  let worker: Worker | undefined;
  const waiting = new Map<number, { resolve(o: AppendOutcome[]): void; reject(e: unknown): void }>();
  let nextId = 1;
  let failed: Error | undefined;
  const start = (): Worker => {
    const w = new Worker(new URL("../thread-boot.mjs", import.meta.url), {
      workerData: { entry: new URL("./writer-thread.ts", import.meta.url).href, path, synchronous },
      execArgv: [],
    });
    w.on("message", (m: { id: number; outcomes?: AppendOutcome[]; fatal?: string }) => {
      const job = waiting.get(m.id);
      if (!job) return;
      waiting.delete(m.id);
      if (waiting.size === 0) w.unref();
      if (m.outcomes) job.resolve(m.outcomes);
      else job.reject(new Error(`store writer: ${m.fatal}`));
    });
    w.on("error", (e) => {
      failed = e;
      for (const job of waiting.values()) job.reject(e);
      waiting.clear();
    });
    return w;
  };
  return {
    run(jobs) {
      if (failed) return Promise.reject(failed);
      worker ??= start();
      const w = worker;
      return new Promise((resolve, reject) => {
        const id = nextId++;
        waiting.set(id, { resolve, reject });
        // A worker with work outstanding keeps the process alive; an idle one must not.
        w.ref();
        w.postMessage({ id, jobs });
      });
    },
    async close() {
      const w = worker;
      if (!w) return;
      if (!failed) {
        w.ref();
        await new Promise<void>((resolve) => {
          w.once("message", () => resolve());
          w.once("exit", () => resolve());
          w.postMessage({ close: true });
        });
      }
      await w.terminate();
    },
  };
}
