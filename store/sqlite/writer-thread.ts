/**
 * The store's writer thread: group commits with synchronous=FULL fsync here, off the event loop, so the gateway
 * keeps parsing, hashing and verifying while the disk works, and the next group grows meanwhile.
 */
import Database from "better-sqlite3";
import { parentPort, workerData } from "node:worker_threads";
import { groupAppender, type AppendJob } from "./append.ts";
import { configureConnection } from "./pragmas.ts";

const { path, synchronous } = workerData as { path: string; synchronous: string };
const db = new Database(path);
configureConnection(db, synchronous);
// Statement journals in memory: every insert into readings fires the counters' trigger (./counters.ts), so SQLite
// keeps a statement journal per INSERT to undo it alone; in a temp file that was 60% of a batch's append CPU
// (44 → 17 CPU-µs per reading of a 100-reading batch, mostly system time). Only the transaction's own rollback
// needs it, never recovery: the WAL keeps durability.
db.pragma("temp_store = MEMORY");
const append = groupAppender(db);

parentPort!.on("message", (m: { id: number; jobs: AppendJob[] } | { close: true }) => {
  if ("close" in m) {
    // Messages are handled in order, so every group sent before close has committed. Close the connection, then
    // let the thread end by itself (no terminate() while native code may run).
    db.close();
    parentPort!.close();
    return;
  }
  try {
    parentPort!.postMessage({ id: m.id, outcomes: append(m.jobs) });
  } catch (e) {
    parentPort!.postMessage({ id: m.id, fatal: (e as Error).message });
  }
});
