/**
 * What `mfi devnet --db postgres` prints (cli/devnet/main.ts hands over after the build): the processes and where to
 * look, each role's events as they come (prefixed by the process), the summary line over the shared database, and a
 * clean stop on Ctrl-C with every process gone.
 */
import type { Config } from "../config.ts";
import { eventLine } from "./events.ts";
import { startPostgresDevnet, type PgDevnet } from "./postgres.ts";
import { isRunning } from "./postgres-procs.ts";
import { startSummary } from "./summary.ts";
import { upLine } from "./up-line.ts";

export async function runPostgresDevnetCli(o: {
  config: Config;
  db: string;
  mockProofs?: boolean;
  buildMs?: number;
}): Promise<void> {
  const t0 = Date.now();
  const names = new Map<string, string>();
  let devnet: PgDevnet;
  try {
    devnet = await startPostgresDevnet({
      config: o.config,
      db: o.db,
      mockProofs: o.mockProofs,
      log: (m) => console.log(`▶ ${m}`),
      onEvent: (e, from) => {
        const line = eventLine(e, { names });
        if (line) console.log(`[${from}] ${line.trimStart()}`);
      },
      onRole: (from, e) => {
        if (e.type === "leader") console.log(`[${from}] leader lock: ${e.state}${e.detail ? ` (${e.detail})` : ""}`);
      },
    });
  } catch (err) {
    console.error(`✗ the devnet did not start: ${(err as Error).message}`);
    process.exit(1);
  }
  for (const a of devnet.applets) names.set(a.imageId.replace(/^0x/, ""), a.name);
  const cfg = o.config;
  const pids = devnet.processes.map((p) => `${p.name} ${p.pid}`).join(", ");
  const where = devnet.db.replace(/\/\/([^:/@]*):[^@]*@/, "//$1:***@");
  console.log(`
${upLine({ startMs: Date.now() - t0, buildMs: o.buildMs, mockProofs: o.mockProofs })}
  layout         multi-process on Postgres: 2 gateways, scheduler (closes epochs), runner (runs the applets), 2 provers, submitter
  database       ${where}
  gateways       ${devnet.gatewayUrls.join("   ")}   (dashboard, metrics, reference on each)
  chain (anvil)  ${devnet.rpcUrl}   chain id ${devnet.chainId}
  PayoutVault    ${devnet.manifest.contracts.PayoutVault}
  processes      ${pids}
  applets        ${devnet.applets.map((a) => a.name).join(", ")}
  fleet          ${cfg.simulate ? cfg.devices : 0} devices (half to each gateway), ${cfg.readingsPerSecond} readings/s each, epochs of ${cfg.epochMs / 1000} s
  proofs         ${o.mockProofs ? "MOCK (MockVerifier: witnesses checked, no Groth16 proof)" : "Groth16, dev trusted setup: INSECURE, for local use only"}
  state          ${devnet.dir}   (throwaway: the embedded Postgres is removed at exit)
Ctrl-C stops everything.
`);
  const summary = startSummary({
    accepted: () => (devnet.fleets.length ? devnet.fleets.reduce((n, f) => n + f.stats().accepted, 0) : undefined),
    claimCounts: () => devnet.store.worker.claimCounts(),
    runCounts: () => devnet.store.worker.runCounts(),
    ownersHold: async () => {
      let total = 0n;
      for (const owner of devnet.owners) total += await devnet.admin.balanceOf(owner);
      return total;
    },
  });
  let stopping = false;
  const shutdown = async () => {
    if (stopping) {
      console.error("✗ stopped without waiting: the processes are killed on exit.");
      process.exit(130);
    }
    stopping = true;
    summary.stop();
    console.log(
      "\nstopping: fleet, gateways, scheduler, runner, provers, submitter, Postgres, chain… (Ctrl-C again to stop at once)",
    );
    try {
      await devnet.stop();
    } catch (err) {
      console.error(`✗ the devnet did not stop cleanly: ${(err as Error).message}`);
      process.exit(1);
    }
    const left = devnet.processes.filter((p) => isRunning(p.pid));
    if (left.length) {
      console.error(`✗ still running: ${left.map((p) => `${p.name} ${p.pid}`).join(", ")}`);
      process.exit(1);
    }
    console.log("stopped cleanly: no process left.");
    process.exit(0);
  };
  process.on("SIGINT", shutdown);
  process.on("SIGTERM", shutdown);
}
