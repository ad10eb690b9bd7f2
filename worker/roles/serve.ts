/**
 * `serveRole(options)`: one role of the worker as its own process on a Postgres database (`mfi worker scheduler |
 * runner | prover | submitter --db postgres://…`): opens the store, the pg-boss queues it uses (run jobs, prove jobs)
 * and, for the scheduler and the submitter, their leader lock. Roles need a shared database and queue: on SQLite,
 * `mfi worker start` runs them all in one process instead.
 */
import { Wallet } from "ethers";
import { createMachinefiClient, type DeploymentManifest } from "../../contracts/index.ts";
import { isPostgresUrl, openStoreAsync } from "../../store/index.ts";
import { contractsChainPort } from "../chain-port.ts";
import { WorkerError } from "../errors.ts";
import { circuitsProvePort } from "../prover-port.ts";
import { PgBossProveQueue, PgBossRunQueue, runJobKey, type PgBossQueueOptions } from "../queue/index.ts";
import { contractsClaimBatchPort } from "./claim-batch.ts";
import { pgLeaderLock, withStartLock } from "./leader.ts";
import { runProver, runRunner, runScheduler, runSubmitter, type RoleEvent, type RunningRole } from "./roles.ts";

export type RoleName = "scheduler" | "runner" | "prover" | "submitter";

export interface ServeRoleOptions {
  role: RoleName;
  /** postgres://… */
  dbUrl: string;
  onEvent?: (e: RoleEvent) => void;
  intervalMs?: number;
  maxAttempts?: number;
  /** The prove queue's settings (the scheduler applies them to the queue). */
  queue?: Omit<PgBossQueueOptions, "url">;
  /** The run queue's settings (the scheduler applies them to the queue). */
  runQueue?: Omit<PgBossQueueOptions, "url">;
  /** scheduler */
  epochMs?: number;
  graceMs?: number;
  /** prover: proofs at once; runner: runs at once */
  concurrency?: number;
  proofs?: "groth16" | "mock";
  log?: (m: string) => void;
  /** submitter (its key); scheduler and runner, optional: chain reads only (device keys, applet states), no key */
  chain?: { rpcUrl: string; privateKey?: string; manifest: DeploymentManifest };
}

/** A role started on a SQLite file: the roles share their queue and locks through Postgres. */
export class RoleNeedsPostgresError extends WorkerError {
  override name = "RoleNeedsPostgresError";
  constructor(role: string, db: string) {
    super(`mfi worker ${role} needs a postgres:// database shared by the roles, got ${db}`, {
      details: "on SQLite, mfi worker start runs every role in one process",
    });
  }
}

export async function serveRole(o: ServeRoleOptions): Promise<RunningRole> {
  if (!isPostgresUrl(o.dbUrl)) throw new RoleNeedsPostgresError(o.role, o.dbUrl);
  const closers: (() => Promise<void>)[] = [];
  const closeAll = async () => {
    for (const c of closers.reverse()) await c().catch(() => {});
  };
  try {
    // Every role's first-start DDL (migrations, pg-boss's schema and queues) under one lock (leader.ts says why).
    const { store, proveQueue, runQueue } = await withStartLock(
      o.dbUrl,
      async () => {
        const store = await openStoreAsync(o.dbUrl);
        closers.push(() => store.close());
        if (o.role === "submitter") return { store };
        const proveQueue = await PgBossProveQueue.open({ url: o.dbUrl, ...o.queue });
        closers.push(() => proveQueue.stop());
        if (o.role === "prover") return { store, proveQueue };
        const runQueue = await PgBossRunQueue.open({ url: o.dbUrl, ...o.runQueue });
        closers.push(() => runQueue.stop());
        return { store, proveQueue, runQueue };
      },
      { log: (m) => o.log?.(`${o.role}: ${m}`) },
    );
    let running: RunningRole;
    const base = { store, workerStore: store.worker, onEvent: o.onEvent, intervalMs: o.intervalMs };
    const attempts = o.maxAttempts === undefined ? {} : { maxAttempts: o.maxAttempts };
    // Reads only for the scheduler and runners: a throwaway key, never used to send.
    const client =
      o.chain &&
      createMachinefiClient({ ...o.chain, privateKey: o.chain.privateKey ?? Wallet.createRandom().privateKey });
    if (client) closers.push(async () => client.close());
    const reads = client && o.role !== "submitter" ? { chain: contractsChainPort(client) } : {};
    if (o.role === "submitter") {
      if (!client || !o.chain?.privateKey)
        throw new Error("the submitter needs a chain (rpcUrl, privateKey, manifest)");
      running = runSubmitter({
        ...base,
        ...attempts,
        chain: contractsChainPort(client),
        batch: contractsClaimBatchPort(client),
        lock: pgLeaderLock(o.dbUrl, "submitter"),
      });
    } else if (o.role === "scheduler") {
      await proveQueue!.configure();
      await runQueue!.configure();
      await proveQueue!.workDeadLetters(async (claim, reason) => {
        await store.worker.markFailed(claim.id, reason, claim.attempts + 1, Date.now());
        o.onEvent?.({ type: "claim", claimId: claim.id, state: "failed", detail: reason });
      });
      await runQueue!.workDeadLetters(async (job, reason) => {
        o.onEvent?.({ type: "claim", claimId: -1, state: "failed", detail: `${runJobKey(job)}: ${reason}` });
      });
      running = runScheduler({
        ...base,
        ...attempts,
        queue: proveQueue!,
        runQueue: runQueue!,
        ...reads,
        lock: pgLeaderLock(o.dbUrl, "scheduler"),
        epochMs: o.epochMs ?? 10_000,
        graceMs: o.graceMs,
      });
    } else if (o.role === "runner") {
      running = await runRunner({
        ...base,
        runQueue: runQueue!,
        proveQueue: proveQueue!,
        ...reads,
        concurrency: o.concurrency ?? 2,
      });
    } else {
      const prover = circuitsProvePort({ concurrency: o.concurrency ?? 1, mode: o.proofs ?? "groth16", log: o.log });
      // issue 25: the proving processes start and read the applets' keys now, not at the first job
      void store.worker
        .listApplets()
        .then((l) => prover.warm(l.filter((x) => !x.quarantined).map((x) => x.spec)))
        .catch(() => {});
      closers.push(() => prover.close());
      running = await runProver({
        ...base,
        ...attempts,
        queue: proveQueue!,
        prove: prover.prove,
        concurrency: o.concurrency ?? 1,
      });
    }
    return {
      async stop() {
        await running.stop();
        await closeAll();
      },
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}
