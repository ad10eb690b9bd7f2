/**
 * `serveWorker(options)`: the worker as an operator runs it beside a gateway, with its own store connection (the same
 * database file as the gateway's, WAL) and its own chain client. `worker/main.ts` and `mfi worker start` both call it,
 * as `gateway/main.ts` and `mfi gateway start` both call `serveGateway`; the devnet, which already holds a store and
 * a client, calls `startWorker` directly.
 */
import { createMachinefiClient, type DeploymentManifest } from "../contracts/index.ts";
import { isPostgresUrl, openStoreAsync } from "../store/index.ts";
import { startWorker, type RunningWorker, type WorkerConfig } from "./start.ts";
import { BatchStoreMissingError } from "./batch-errors.ts";
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
  /** Batch claims (issue 26) for applets switched to this BatchVault; needs a SQLite database (its batches table). */
  batch?: { vault: string; size: number; deadlineMs?: number; onEvent?: NonNullable<WorkerConfig["batch"]>["onEvent"] };
}

export interface ServedWorker {
  running: RunningWorker;
  /** Stop the worker (proofs and submissions under way finish), then close the chain client and the store. */
  close(): Promise<void>;
}

export async function serveWorker(o: ServeWorkerOptions): Promise<ServedWorker> {
  if (o.batch && isPostgresUrl(o.dbPath))
    throw new BatchStoreMissingError("batch claims need a SQLite database for now (its batches table), not Postgres", {
      details: "run the batching worker on the SQLite file, or without --batch-vault",
    });
  const store = await openStoreAsync(o.dbPath);
  const client = createMachinefiClient({ rpcUrl: o.rpcUrl, privateKey: o.privateKey, manifest: o.manifest });
  let running: RunningWorker;
  try {
    if (o.batch && !store.batches)
      throw new BatchStoreMissingError("batch claims need a SQLite database for now (its batches table)", {
        details: "run the worker on the SQLite file, or without --batch-vault",
      });
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
      ...(o.batch && store.batches ? { batch: { ...o.batch, batches: store.batches } } : {}),
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
