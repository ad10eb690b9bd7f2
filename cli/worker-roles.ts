/**
 * `mfi worker scheduler | runner | prover | submitter --db postgres://…` (issue 23): the worker's roles as separate
 * processes sharing one Postgres (store, pg-boss run and prove queues, leader locks). `mfi worker start` keeps running
 * all of them in one process, on SQLite or Postgres.
 */
import type { Command } from "commander";
import type { DeploymentManifest } from "../contracts/index.ts";
import { isPostgresUrl } from "../store/index.ts";
import { eventLine, type WorkerEvent } from "../worker/index.ts";
import { serveRole, type RoleName, type RunningRole, type ServeRoleOptions } from "../worker/roles/index.ts";
import { proverSummary } from "../circuits/index.ts";
import { exitCodeOf, UsageError } from "./errors.ts";

interface RoleOpts {
  db?: string;
  epochMs: string;
  graceMs: string;
  provers: string;
  runs: string;
  runTimeoutS: string;
  mockProofs?: boolean;
  jobTimeoutS: string;
  retryLimit: string;
  maintenanceS: string;
  rpc?: string;
  manifest?: string;
  deployments?: string;
  state?: string;
}

type FindManifest = (
  o: Pick<RoleOpts, "manifest" | "deployments" | "state">,
  rpcUrl: string,
) => Promise<DeploymentManifest>;

const whole = (name: string, v: string, min: number): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} takes a whole number ≥ ${min}, got ${v}`);
  return n;
};

async function options(role: RoleName, o: RoleOpts, findManifest: FindManifest): Promise<ServeRoleOptions> {
  const db = o.db ?? process.env.MFI_WORKER_DB;
  if (!db) throw new UsageError(`no database: pass --db postgres://… (or set MFI_WORKER_DB)`);
  if (!isPostgresUrl(db))
    throw new UsageError(
      `mfi worker ${role} needs a postgres:// database shared by the roles, got ${db}; on SQLite run mfi worker start`,
    );
  const base: ServeRoleOptions = {
    role,
    dbUrl: db,
    intervalMs: 100,
    onEvent: (e) => console.log(eventLine(e as WorkerEvent)),
    queue: {
      expireInSeconds: whole("job-timeout-s", o.jobTimeoutS, 1),
      retryLimit: whole("retry-limit", o.retryLimit, 0),
      maintenanceIntervalSeconds: whole("maintenance-s", o.maintenanceS, 1),
      pollingIntervalSeconds: 2,
    },
  };
  const runQueue = () => ({
    expireInSeconds: whole("run-timeout-s", o.runTimeoutS, 1),
    retryLimit: whole("retry-limit", o.retryLimit, 0),
    maintenanceIntervalSeconds: whole("maintenance-s", o.maintenanceS, 1),
    pollingIntervalSeconds: 2,
  });
  // Scheduler and runners: chain reads (device keys, applet states) when --rpc is given; no key, nothing sent.
  const reads = async () => {
    if (!o.rpc) return {};
    if (!/^https?:\/\//.test(o.rpc)) throw new UsageError(`--rpc must be an http(s) URL, got ${o.rpc}`);
    return { chain: { rpcUrl: o.rpc, manifest: await findManifest(o, o.rpc) } };
  };
  if (role === "scheduler")
    return {
      ...base,
      ...(await reads()),
      runQueue: runQueue(),
      epochMs: whole("epoch-ms", o.epochMs, 1),
      graceMs: whole("grace-ms", o.graceMs, 0),
    };
  if (role === "runner")
    return { ...base, ...(await reads()), runQueue: runQueue(), concurrency: whole("runs", o.runs, 1) };
  if (role === "prover")
    return {
      ...base,
      concurrency: whole("provers", o.provers, 1),
      proofs: o.mockProofs ? "mock" : "groth16",
      log: (m) => console.error(m),
    };
  const rpcUrl = o.rpc ?? (process.env.MFI_RPC_URL || undefined);
  if (!rpcUrl) throw new UsageError("no chain: pass --rpc <url> (or set MFI_RPC_URL)");
  if (!/^https?:\/\//.test(rpcUrl)) throw new UsageError(`--rpc must be an http(s) URL, got ${rpcUrl}`);
  const privateKey = process.env.MFI_PRIVATE_KEY || undefined;
  if (!privateKey) throw new UsageError("no key: set MFI_PRIVATE_KEY to the key that submits claims");
  return { ...base, chain: { rpcUrl, privateKey, manifest: await findManifest(o, rpcUrl) } };
}

/** Postgres's deadlock_detected, serialization_failure and unique_violation (concurrent CREATE … IF NOT EXISTS). */
function racedOnStart(err: unknown): boolean {
  for (let e = err as { code?: string; cause?: unknown; message?: string } | undefined, i = 0; e && i < 4; i++) {
    if (e.code === "40P01" || e.code === "40001" || e.code === "23505") return true;
    if (
      /deadlock detected|could not serialize access|duplicate key value violates unique constraint "pg_/.test(
        e.message ?? "",
      )
    )
      return true;
    e = e.cause as typeof e;
  }
  return false;
}

const QUEUE_HELP = `
Every role takes --db postgres://… (or MFI_WORKER_DB): the gateways' database, which also holds the run and prove
queues (pg-boss, schema pgboss) and the leader locks. Prints one JSON line per event on stdout after {"type":"ready",…}.
Safe to kill -9 at any point (docs/operations.md, "Worker roles").`;

export function registerRoles(w: Command, findManifest: FindManifest): void {
  const queueOpts = (c: Command) =>
    c
      .option("--db <url>", "the shared postgres:// database (default MFI_WORKER_DB)")
      .option(
        "--job-timeout-s <s>",
        "visibility timeout: a prove job not finished by then goes to another prover",
        "300",
      )
      .option("--retry-limit <n>", "deliveries of a prove job after the first before it is dead-lettered", "3")
      .option("--maintenance-s <s>", "how often stalled jobs are expired and old ones archived", "10");

  const action = (role: RoleName) => async (o: RoleOpts) => {
    let running: RunningRole;
    for (let attempt = 1; ; attempt++) {
      try {
        running = await serveRole(await options(role, o, findManifest));
        break;
      } catch (err) {
        // Roles take one start lock around the first start's DDL (withStartLock); a start that still races (a gateway
        // migrating at the same moment, an older role without the lock) is aborted by Postgres with a deadlock or a
        // duplicate catalog row, and simply made again.
        if (attempt < 6 && racedOnStart(err)) {
          console.error(`${role}: start raced another process (${(err as Error).message}); retrying`);
          await new Promise((r) => setTimeout(r, 250 * attempt));
          continue;
        }
        console.error(`cannot start the ${role}: ${(err as Error).message}`);
        process.exit(exitCodeOf(err));
      }
    }
    const prover = role === "prover" && !o.mockProofs ? proverSummary() : undefined;
    if (prover) console.error(prover.line);
    console.log(
      JSON.stringify({ type: "ready", role, pid: process.pid, ...(prover ? { prover: prover.backend } : {}) }),
    );
    const stop = async () => {
      await running.stop();
      process.exit(0);
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  };

  const runOpt = (c: Command) =>
    c
      .option(
        "--run-timeout-s <s>",
        "visibility timeout of a run job: one not finished by then goes to another runner",
        "30",
      )
      .option(
        "--rpc <url>",
        "optional: read device keys and applet states on this chain (a stateful applet's state follows the device token across key rotations); nothing is sent",
      )
      .option("--manifest <file>", "deployment manifest (default: <chainId>.json of the chain --rpc serves)")
      .option("--deployments <dir>", "where that <chainId>.json is (default .mfi/deployments)");

  runOpt(
    queueOpts(
      w
        .command("scheduler")
        .description(
          "close epochs, enqueue a run job per device-epoch and a prove job per claim (one active, by leader lock)",
        ),
    ),
  )
    .option("--epoch-ms <ms>", "epoch length for applets without an on-chain schedule", "10000")
    .option("--grace-ms <ms>", "wait this long after an epoch ends before closing it (late readings)", "1000")
    .addHelpText(
      "after",
      `${QUEUE_HELP}
Exactly one scheduler is active: it holds a Postgres advisory lock; others wait as standbys
({"type":"leader","state":"standby"}) and one takes over within a second when the active one dies.
The scheduler only decides what is due: a run job per (applet, device, epoch) once the device's chain has
passed the epoch's end (one job per key, however often offered, by any scheduler), taken by mfi worker
runner processes; a prove job per due claim. It marks the claims of dead-lettered prove jobs failed with
the reason and offers dead-lettered runs again. Its --job-timeout-s / --run-timeout-s / --retry-limit
apply to the queues.

Example:
  $ mfi worker scheduler --db postgres://mfi@db/mfi --epoch-ms 3600000

Exit codes: 0 stopped (SIGINT/SIGTERM), 2 bad usage (no database, not Postgres, bad number).`,
    )
    .action(action("scheduler"));

  runOpt(queueOpts(w.command("runner").description("take run jobs: run the applets in the sandbox (run any number)")))
    .option("--runs <n>", "run jobs at once", "2")
    .addHelpText(
      "after",
      `${QUEUE_HELP}
Each run job is one applet over one device's readings of one closed epoch. The run, its claims and the
applet's new state are stored in one transaction, unique per (applet, device, epoch): a job delivered twice
stores one run. A runner killed mid-job loses nothing: its job goes to another runner once
--run-timeout-s passes. After a run the runner enqueues the claims' prove jobs.
The queues' timeouts and retry limits are the active scheduler's (it applies its --job-timeout-s,
--run-timeout-s and --retry-limit on start): a runner's own apply only if it creates the queues, on a
database no scheduler has started on. Its --maintenance-s is its own.
Prints {"type":"run-job",…} as it takes each job and {"type":"run",…} for each run it stores.

Example:
  $ mfi worker runner --db postgres://mfi@db/mfi --runs 4

Exit codes: 0 stopped (SIGINT/SIGTERM), 2 bad usage (no database, not Postgres, bad number).`,
    )
    .action(action("runner"));

  queueOpts(w.command("prover").description("take prove jobs from the queue and prove the claims (run any number)"))
    .option("--provers <n>", "proofs at once, each on its own thread", "1")
    .option(
      "--mock-proofs",
      "skip the Groth16 step, still check each claim's circuit witness (applets registered with the MockVerifier only)",
    )
    .addHelpText(
      "after",
      `${QUEUE_HELP}
A prover killed mid-proof loses nothing: its job is given to another prover once the prove queue's
visibility timeout passes: the active scheduler's --job-timeout-s (it applies its --job-timeout-s and
--retry-limit on start; a prover's own apply only if it creates the queue, on a database no scheduler has
started on). Its --maintenance-s is its own.
Prints {"type":"job","claimId":…,"queueMs":…} as it starts each claim.

Example:
  $ mfi worker prover --db postgres://mfi@db/mfi --provers 2

Exit codes: 0 stopped (SIGINT/SIGTERM), 2 bad usage (no database, not Postgres, bad number).`,
    )
    .action(action("prover"));

  queueOpts(w.command("submitter").description("pay proved claims on L1 from one key (one active, by leader lock)"))
    .option("--rpc <url>", "the chain's JSON-RPC URL (default MFI_RPC_URL)")
    .option("--manifest <file>", "deployment manifest (default: <chainId>.json of the chain --rpc serves)")
    .option("--deployments <dir>", "where that <chainId>.json is (default .mfi/deployments)")
    .addHelpText(
      "after",
      `${QUEUE_HELP}
The key comes from MFI_PRIVATE_KEY (never a flag). One submitter is active at a time (one nonce
manager for the key); a standby takes over when it dies. The vault pays a device-epoch once.

Example:
  $ MFI_PRIVATE_KEY=0x… mfi worker submitter --db postgres://mfi@db/mfi --rpc http://127.0.0.1:8545

Exit codes: 0 stopped (SIGINT/SIGTERM), 2 bad usage (no chain, no key, no database), 3 chain unreachable.`,
    )
    .action(action("submitter"));
}
