/**
 * `mfi worker start`: the epoch worker on its own (all roles in one process; `mfi worker scheduler | runner | prover |
 * submitter` run them as separate processes on Postgres, ./worker-roles.ts), beside a gateway on the same database (`mfi gateway start`):
 * closes each applet's epochs, runs it, proves the claims and pays them. The same serveWorker as worker/main.ts,
 * which process supervisors and the crash tests run.
 */
import type { Command } from "commander";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { JsonRpcProvider } from "ethers";
import { readManifest, type DeploymentManifest } from "../../contracts/index.ts";
import { isPostgresUrl } from "../../store/index.ts";
import { eventLine, serveWorker, type ServedWorker } from "../../worker/index.ts";
import { exitCodeOf, UnreachableError, UsageError } from "../errors.ts";
import { proverSummary } from "../../circuits/index.ts";
import { registerRoles } from "../worker-roles.ts";

interface StartOpts {
  db?: string;
  state?: string;
  rpc?: string;
  manifest?: string;
  deployments?: string;
  epochMs: string;
  graceMs: string;
  provers: string;
  mockProofs?: boolean;
  batchVault?: string;
  batchSize: string;
  batchDeadlineMs: string;
}

const wholeNumber = (name: string, v: string, min: number): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} takes a whole number ≥ ${min}, got ${v}`);
  return n;
};

/** --manifest, else the manifest of the chain --rpc serves, from --deployments, <state>/deployments or .mfi/deployments. */
async function findManifest(
  o: Pick<StartOpts, "manifest" | "deployments" | "state">,
  rpcUrl: string,
): Promise<DeploymentManifest> {
  if (o.manifest) {
    if (!existsSync(o.manifest)) throw new UsageError(`no deployment manifest at ${o.manifest}`);
    return JSON.parse(readFileSync(o.manifest, "utf8")) as DeploymentManifest;
  }
  const provider = new JsonRpcProvider(rpcUrl);
  let chainId: bigint;
  try {
    chainId = (await provider.getNetwork()).chainId;
  } catch (err) {
    throw new UnreachableError(`${rpcUrl}: ${(err as Error).message}`, { hint: "is the chain running?", cause: err });
  } finally {
    provider.destroy();
  }
  return readManifest(chainId, o.deployments ?? (o.state ? join(o.state, "deployments") : undefined));
}

async function start(o: StartOpts): Promise<ServedWorker> {
  const epochMs = wholeNumber("epoch-ms", o.epochMs, 1);
  const graceMs = wholeNumber("grace-ms", o.graceMs, 0);
  const provers = wholeNumber("provers", o.provers, 1);
  const rpcUrl = o.rpc ?? (process.env.MFI_RPC_URL || undefined);
  if (!rpcUrl) throw new UsageError("no chain: pass --rpc <url> (or set MFI_RPC_URL)");
  if (!/^https?:\/\//.test(rpcUrl)) throw new UsageError(`--rpc must be an http(s) URL, got ${rpcUrl}`);
  const privateKey = process.env.MFI_PRIVATE_KEY || undefined;
  if (!privateKey) throw new UsageError("no key: set MFI_PRIVATE_KEY to the key that submits claims");
  const manifest = await findManifest(o, rpcUrl);
  const dbPath = o.db ?? (o.state ? join(o.state, "machinefi.sqlite") : join(".mfi", "gateway.sqlite"));
  // The gateway creates the database; a worker on a missing file would wait on an empty one of its own.
  if (!isPostgresUrl(dbPath) && !existsSync(dbPath))
    throw new UsageError(`no database at ${dbPath}: start the gateway on it first, or pass --db / --state`);
  let batch: { vault: string; size: number; deadlineMs: number } | undefined;
  if (o.batchVault) {
    if (!/^0x[0-9a-fA-F]{40}$/.test(o.batchVault))
      throw new UsageError(`--batch-vault takes a BatchVault address (0x + 40 hex digits), got ${o.batchVault}`);
    if (o.mockProofs) throw new UsageError("--batch-vault makes real batch proofs: drop --mock-proofs");
    batch = {
      vault: o.batchVault,
      size: wholeNumber("batch-size", o.batchSize, 1),
      deadlineMs: wholeNumber("batch-deadline-ms", o.batchDeadlineMs, 0),
    };
  }
  return serveWorker({
    dbPath,
    rpcUrl,
    privateKey,
    manifest,
    epochMs,
    graceMs,
    proverConcurrency: provers,
    proofs: o.mockProofs ? "mock" : "groth16",
    intervalMs: 100,
    onEvent: (e) => console.log(eventLine(e)),
    ...(batch ? { batch: { ...batch, onEvent: (e) => console.log(eventLine(e)) } } : {}),
  });
}

export function register(program: Command): void {
  const w = program.command("worker").description("the epoch worker: runs applets, proves claims and pays them");
  registerRoles(w, findManifest);

  w.command("start")
    .description("run the epoch worker beside a gateway on the same database until interrupted")
    .option("--db <file|url>", "the gateway's database: SQLite file (default .mfi/gateway.sqlite) or postgres:// URL")
    .option("--state <dir>", "devnet state directory (uses <dir>/machinefi.sqlite and <dir>/deployments)")
    .option("--rpc <url>", "the chain's JSON-RPC URL (default MFI_RPC_URL)")
    .option("--manifest <file>", "deployment manifest (default: <chainId>.json of the chain --rpc serves)")
    .option("--deployments <dir>", "where that <chainId>.json is (default <state>/deployments, else .mfi/deployments)")
    .option("--epoch-ms <ms>", "epoch length for applets without an on-chain schedule", "10000")
    .option("--grace-ms <ms>", "wait this long after an epoch ends before closing it (late readings)", "1000")
    .option("--provers <n>", "proofs at once, each on its own thread", "1")
    .option(
      "--mock-proofs",
      "skip the Groth16 step, still check each claim's circuit witness (applets registered with the MockVerifier only)",
    )
    .option("--batch-vault <address>", "credit applets switched to this BatchVault in batches (issue 26; default off)")
    .option("--batch-size <n>", "devices per batch proof: the N of the batch verifier set in the vault", "8")
    .option("--batch-deadline-ms <ms>", "prove a smaller batch once its oldest claim has waited this long", "30000")
    .addHelpText(
      "after",
      `
The key that submits claims comes from MFI_PRIVATE_KEY (never a flag); give it nothing else to do.
Prints one JSON line per event on stdout ({"type":"run",…}, {"type":"claim","state":"proved",…}), after
{"type":"ready","pid":…,"prover":"native"|"wasm"|"snarkjs","prover_pool":"warming"} (stderr names the prover,
with a warning when the native one is not built), then {"type":"prover","state":"warm",…} once the proving
processes have started and read the applets' keys (in the background; MFI_PROVER_KEY_CACHE_MB bounds the keys
each process keeps, default 256). Safe to kill and restart at any point: claims resume from the database and the
vault pays a device-epoch once (docs/operations.md).

Examples:
  $ MFI_PRIVATE_KEY=0x… mfi worker start --db .mfi/gw.sqlite --rpc http://127.0.0.1:8545
  $ MFI_PRIVATE_KEY=0x… mfi worker start --state .mfi/devnet --rpc http://127.0.0.1:8545 --provers 2
  $ MFI_PRIVATE_KEY=0x… mfi worker start --state .mfi/devnet --rpc http://127.0.0.1:8545 --batch-vault 0x… --batch-size 8

Exit codes: 0 stopped (SIGINT/SIGTERM), 2 bad usage (no chain, no key, no database, bad number),
3 chain unreachable or no deployment manifest for it.`,
    )
    .action(async (o: StartOpts) => {
      let served: ServedWorker;
      try {
        served = await start(o);
      } catch (err) {
        console.error(`cannot start the worker: ${(err as Error).message}`);
        process.exit(exitCodeOf(err));
      }
      // Which prover makes the proofs, in the ready line (and a warning on stderr when the native one was wanted).
      const prover = o.mockProofs ? undefined : proverSummary();
      if (prover) console.error(prover.line);
      console.log(
        JSON.stringify({
          type: "ready",
          pid: process.pid,
          ...(prover ? { prover: prover.backend, prover_pool: "warming" } : {}),
        }),
      );
      // Issue 25: the proving processes started with the worker and read the applets' keys in the background; say
      // when they are warm (claims that come first wait for their process, never fail for it).
      if (prover)
        void served.running.proverWarm().then((r) => {
          if (!r || r.closed) return;
          const mb = (b: number) => Math.round(b / 2 ** 20);
          console.error(
            `prover pool warm in ${(r.sinceStartMs / 1000).toFixed(1)} s: ${r.processes} process(es), ${r.keysPerProcess} key(s) in memory (${mb(r.bytesPerProcess)} of ${mb(r.budgetPerProcess)} MB per process)`,
          );
          console.log(
            JSON.stringify({
              type: "prover",
              state: "warm",
              processes: r.processes,
              backend: r.backend,
              keys: r.keysPerProcess,
              keyBytesPerProcess: r.bytesPerProcess,
              seconds: Math.round(r.sinceStartMs) / 1000,
            }),
          );
        });
      const stop = async () => {
        await served.close();
        process.exit(0);
      };
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
    });
}
