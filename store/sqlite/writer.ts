/**
 * Where group commits run: inline on the store's connection (":memory:" only) or on a writer thread with its
 * own connection (files), so that fsync never blocks the event loop.
 */
import type Database from "better-sqlite3";
import { Worker } from "node:worker_threads";
import { groupAppender, type AppendJob, type AppendOutcome } from "./append.ts";

export interface Writer {
  run(jobs: AppendJob[]): Promise<AppendOutcome[]>;
  /** false once a writer thread failed or exited: appends can no longer succeed. */
  healthy(): boolean;
  close(): Promise<void>;
}

export function inlineWriter(db: Database.Database): Writer {
  const append = groupAppender(db);
  return { run: async (jobs) => append(jobs), healthy: () => true, close: async () => {} };
}

export function threadWriter(path: string, synchronous: string): Writer {
  // Started on the first append, so read-only users of the store (CLI commands, the worker) never pay for it.
  let worker: Worker | undefined;
  const waiting = new Map<number, { resolve(o: AppendOutcome[]): void; reject(e: unknown): void }>();
  let nextId = 1;
  let failed: Error | undefined;
  let exited = false;
  const start = (): Worker => {
    const w = new Worker(new URL("../../gateway/thread-boot.mjs", import.meta.url), {
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
    w.once("exit", () => {
      exited = true;
      const e = failed ?? new Error("store writer thread exited");
      for (const job of waiting.values()) job.reject(e);
      waiting.clear();
    });
    w.on("error", (e) => {
      failed = e;
      for (const job of waiting.values()) job.reject(e);
      waiting.clear();
    });
    return w;
  };
  return {
    healthy: () => !failed && !exited,
    run(jobs) {
      if (failed || exited) return Promise.reject(failed ?? new Error("store writer thread has exited"));
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
      if (!w || exited) return;
      // Never terminate() a thread that may be inside SQLite: terminating (or process.exit) while the writer runs
      // native code (a commit, or the WAL checkpoint of db.close()) tears the isolate down under better-sqlite3 —
      // the "free(): invalid next size" / segfault seen at devnet stop. The thread closes its connection, then
      // leaves on its own; we wait for its exit.
      w.ref();
      await new Promise<void>((resolve) => {
        w.once("exit", () => resolve());
        if (!failed) w.postMessage({ close: true });
        else void w.terminate();
      });
    },
  };
}
