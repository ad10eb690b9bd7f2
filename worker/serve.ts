/**
 * `serveWorker(options)`: the worker as an operator runs it beside a gateway, with its own store connection (the same
 * database file as the gateway's, WAL) and its own chain client. `worker/main.ts` and `mfi worker start` both call it,
 * as `gateway/main.ts` and `mfi gateway start` both call `serveGateway`; the devnet, which already holds a store and
 * a client, calls `startWorker` directly.
 */
import { createMachinefiClient, type DeploymentManifest } from "../contracts/index.ts";
import { openStoreAsync } from "../store/index.ts";
import { startWorker, type RunningWorker, type WorkerConfig } from "./start.ts";
import type { WorkerEvent } from "./worker.ts";
import type { BatchEvent } from "./batcher.ts";

export interface ServeWorkerOptions extends Pick<
  WorkerConfig,
  "epochMs" | "graceMs" | "maxAttempts" | "proverConcurrency" | "proofs" | "onEvent" | "intervalMs"
> {
  /** The database the gateway writes readings to: a SQLite file, or a postgres:// URL. */
  dbPath: string;
  rpcUrl: string;
  /** The key that sends PayoutVault.claim; give it nothing else to do. */
  privateKey: string;
  manifest: DeploymentManifest;
  /** Batch claims (issue 26) for applets switched to this BatchVault; batches are kept in the same database. */
  batch?: { vault: string; size: number; deadlineMs?: number; onEvent?: NonNullable<WorkerConfig["batch"]>["onEvent"] };
}

export interface ServedWorker {
  running: RunningWorker;
  /** Stop the worker (proofs and submissions under way finish), then close the chain client and the store. */
  close(): Promise<void>;
}

export async function serveWorker(o: ServeWorkerOptions): Promise<ServedWorker> {
  const store = await openStoreAsync(o.dbPath);
  const client = createMachinefiClient({ rpcUrl: o.rpcUrl, privateKey: o.privateKey, manifest: o.manifest });
  let running: RunningWorker;
  try {
    running = startWorker({
      store,
      workerStore: store.worker,
      client,
      epochMs: o.epochMs,
      graceMs: o.graceMs,
      maxAttempts: o.maxAttempts,
      proverConcurrency: o.proverConcurrency,
      proofs: o.proofs,
      intervalMs: o.intervalMs,
      onEvent: o.onEvent,
      ...(o.batch ? { batch: { ...o.batch, batches: store.batches } } : {}),
    });
  } catch (err) {
    client.close();
    void store.close();
    throw err;
  }
  return {
    running,
    async close() {
      await running.stop();
      client.close();
      await store.close();
    },
  };
}

/** One event as the JSON line the standalone worker prints (bigints as decimal strings). */
export const eventLine = (e: WorkerEvent | BatchEvent): string =>
  JSON.stringify(e, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
