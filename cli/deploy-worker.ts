/**
 * Issue 22: `mfi deploy` hands the applet to a worker, so a worker already running runs it from the next epoch on.
 *
 * A worker runs the applets in its database (it lists them on every pass: one added from another process is seen
 * on its next pass), and the Wasm is not on chain: so the command that holds the module adds it there, after checking
 * it is the one registered (its imageId, the sha256 of these bytes, is registered on L1) and with the schedule L1 holds.
 * Which database: --db (a SQLite file, or the postgres:// URL that workers on other machines share), --state (a
 * devnet's state folder), or by default the running devnet whose chain the command deployed to.
 */
import { join } from "node:path";
import type { MachinefiClient } from "../contracts/index.ts";
import { isPostgresUrl, openStoreAsync } from "../store/index.ts";
import { alignToSchedule, type AppletSpec } from "../worker/index.ts";
import { runningDevnetAt } from "./devnet-state.ts";
import { UsageError } from "./errors.ts";
import { existsSync } from "node:fs";

/** Where the worker's database is, and how it was found (said to the user). */
export interface WorkerTarget {
  location: string;
  /** "--db", "--state" or "the running devnet's" */
  via: string;
  /** The running devnet's state folder (its deployments/ hold the manifest), when found that way. */
  devnetDir?: string;
  /** The running devnet makes mock proofs: its applets are registered with the MockVerifier. */
  mockProofs?: boolean;
  /** The running devnet's epoch length: the applet's when its applet.json names none. */
  epochMs?: number;
}

/**
 * The worker database a deploy goes to: --db, else --state's machinefi.sqlite, else the running devnet at `rpcUrl`'s,
 * else none (the applet is registered on L1 only).
 */
export function workerTarget(o: { db?: string; state?: string; rpcUrl: string }): WorkerTarget | undefined {
  if (o.db) {
    if (!isPostgresUrl(o.db) && !existsSync(o.db.replace(/^sqlite:(\/\/)?/i, "")))
      throw new UsageError(`--db ${o.db}: no worker database there (a SQLite file or a postgres:// URL)`);
    return { location: o.db, via: "--db" };
  }
  if (o.state) {
    const location = join(o.state, "machinefi.sqlite");
    return existsSync(location) ? { location, via: "--state" } : undefined;
  }
  const devnet = runningDevnetAt(o.rpcUrl);
  return (
    devnet && {
      location: join(devnet.dir, "machinefi.sqlite"),
      via: "the running devnet's",
      devnetDir: devnet.dir,
      mockProofs: devnet.mockProofs,
      epochMs: devnet.epochMs,
    }
  );
}

/**
 * Adds the applet to the worker's database from the epoch running now on (on L1's schedule). The imageId must be
 * registered on L1 (a module nobody can be paid for is not run). Returns the start of its first epoch (ms).
 */
export async function handToWorker(o: {
  target: WorkerTarget;
  client: MachinefiClient;
  spec: Omit<AppletSpec, "schedule">;
  now?: number;
}): Promise<{ fromMs: number; epochLengthMs: number; paused: boolean }> {
  const onChain = await o.client.appletOf(o.spec.imageId);
  if (onChain.owner === "0x0000000000000000000000000000000000000000")
    throw new UsageError(`imageId ${o.spec.imageId} is not registered on L1: the worker is not given it`);
  const schedule = { lengthMs: Number(onChain.epochLengthMs), genesisMs: Number(onChain.genesisMs) };
  const now = o.now ?? Date.now();
  const fromMs = alignToSchedule(now, schedule.lengthMs, schedule.genesisMs);
  const store = await openStoreAsync(o.target.location);
  try {
    await store.worker.upsertApplet({ ...o.spec, schedule }, fromMs, now);
  } finally {
    await store.close();
  }
  return { fromMs, epochLengthMs: schedule.lengthMs, paused: onChain.paused };
}
