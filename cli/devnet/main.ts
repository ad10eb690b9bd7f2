/**
 * `npm start` / `mfi devnet`: build what is missing (first run: the dev trusted setup, with progress), start the
 * devnet, print where to look and a live summary; Ctrl-C shuts everything down cleanly.
 */
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ConfigError, loadConfig, type Config } from "../config.ts";
import { startDevnet, type Devnet } from "./devnet.ts";
import type { WorkerEvent } from "../../worker/index.ts";
import { eventLine } from "./events.ts";
import { upLine } from "./up-line.ts";
import { startSummary } from "./summary.ts";
import { watchBacklog } from "./backlog.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

export interface DevnetCliOptions {
  state?: string;
  config?: string;
  devices?: string;
  epochMs?: string;
  port?: string;
  simulate?: boolean;
  build?: boolean;
  mockProofs?: boolean;
  batch?: string;
  /** Issue 23: "postgres" (embedded) or a postgres:// URL: the multi-process layout (cli/devnet/postgres.ts). */
  db?: string;
}

export async function runDevnetCli(opts: DevnetCliOptions): Promise<void> {
  let cfg: Config;
  try {
    cfg = loadConfig({
      file: opts.config,
      overrides: {
        stateDir: opts.state,
        devices: opts.devices,
        epochMs: opts.epochMs,
        port: opts.port,
        simulate: opts.simulate,
      },
    });
  } catch (err) {
    console.error(err instanceof ConfigError ? err.message : err);
    process.exit(2);
  }
  const batch = opts.batch === undefined ? undefined : Number(opts.batch);
  if (batch !== undefined && (!Number.isInteger(batch) || batch < 1 || batch > 64)) {
    console.error(`--batch takes a whole number of devices from 1 to 64, got ${opts.batch}`);
    process.exit(2);
  }
  if (batch !== undefined && opts.mockProofs) {
    console.error("--batch makes real batch proofs: drop --mock-proofs");
    process.exit(2);
  }
  if (opts.db !== undefined) {
    const why =
      opts.db !== "postgres" && !/^postgres(ql)?:\/\//.test(opts.db)
        ? `--db takes postgres (an embedded server) or a postgres:// URL, got ${opts.db}`
        : batch !== undefined
          ? "--batch runs in the single-process devnet only: drop --db"
          : opts.state !== undefined || cfg.stateDir
            ? "--db postgres runs a throwaway layout: drop --state"
            : undefined;
    if (why) {
      console.error(why);
      process.exit(2);
    }
  }
  let buildMs: number | undefined;
  if (opts.build !== false) {
    const tBuild = Date.now();
    console.log(
      opts.mockProofs
        ? "▶ building applets, crypto, contracts and the applets' witness calculators (cached; mock proofs: no trusted setup)"
        : "▶ building applets, crypto, contracts and circuits (cached; the first run derives the dev trusted setup)",
    );
    const r = spawnSync(
      process.execPath,
      [
        "--import",
        join(root, "cli", "register.mjs"),
        join(root, "scripts", "build.ts"),
        ...(opts.mockProofs ? ["--mock-proofs"] : []),
      ],
      { stdio: "inherit", cwd: root },
    );
    if (r.status !== 0) {
      console.error("✗ the build failed (see above); fix it and run `npm start` again.");
      process.exit(3);
    }
    buildMs = Date.now() - tBuild;
  }
  if (opts.db !== undefined) {
    // loaded only here: the single-process devnet never loads the Postgres layout
    const { runPostgresDevnetCli } = await import("./postgres-cli.ts");
    return runPostgresDevnetCli({ config: cfg, db: opts.db, mockProofs: opts.mockProofs, buildMs });
  }
  const t0 = Date.now();
  const events = { runs: 0, trapped: 0, proved: 0, paid: 0, failed: 0 };
  const names = new Map<string, string>();
  const onEvent = (e: WorkerEvent) => {
    if (e.type === "run") {
      events.runs++;
      if (e.trap) events.trapped++;
    } else if (e.type === "quarantined") events.failed++;
    else if (e.type === "claim") {
      if (e.state === "proved") events.proved++;
      else if (e.state === "paid") events.paid++;
      else if (e.state === "failed") events.failed++;
    }
    const line = eventLine(e, { names });
    if (line) console.log(line);
  };
  let devnet: Devnet;
  try {
    devnet = await startDevnet({
      config: cfg,
      log: (m) => console.log(`▶ ${m}`),
      onEvent,
      mockProofs: opts.mockProofs,
      batch,
      // after the first payout: one device is sold, one rotates its key (cli/devnet/lifecycle.ts)
      lifecycle: true,
    });
  } catch (err) {
    console.error(`✗ the devnet did not start: ${(err as Error).message}`);
    process.exit(1);
  }
  for (const a of devnet.applets) names.set(a.imageId.replace(/^0x/, ""), a.name);
  console.log(`
${upLine({ startMs: Date.now() - t0, buildMs, mockProofs: opts.mockProofs })}
  gateway        ${devnet.gatewayUrl}
  dashboard      ${devnet.gatewayUrl}/dashboard${process.env.MFI_DASHBOARD_TOKEN ? "   (token: MFI_DASHBOARD_TOKEN)" : ""}
  metrics        ${devnet.gatewayUrl}/metrics   (Prometheus)
  API reference  ${devnet.gatewayUrl}/reference   (OpenAPI: ${devnet.gatewayUrl}/openapi.json)
  chain (anvil)  ${devnet.rpcUrl}   chain id ${devnet.chainId}
  PayoutVault    ${devnet.manifest.contracts.PayoutVault}${devnet.manifest.contracts.DataMarket ? `\n  DataMarket     ${devnet.manifest.contracts.DataMarket}   (streams: mfi market --help)` : ""}
  state          ${cfg.stateDir ?? `${devnet.dir}   (kept until the next devnet starts; --state <dir> keeps it for good)`}
  applets        ${devnet.applets.map((a) => a.name).join(", ")}
  fleet          ${cfg.devices} devices, ${cfg.readingsPerSecond} readings/s each, epochs of ${cfg.epochMs / 1000} s
  proofs         ${opts.mockProofs ? "MOCK (MockVerifier: witnesses checked, no Groth16 proof)" : "Groth16, dev trusted setup: INSECURE, for local use only (docs/circuits.md)"}
Ctrl-C stops everything.
`);
  const backlog = watchBacklog({
    epochMs: cfg.epochMs,
    claimsPerEpoch: Math.max(1, (cfg.simulate ? cfg.devices : 0) * devnet.applets.length),
  });
  // One line at a time, stamped when its counts were read; says when the chain does not answer (summary.ts).
  const summary = startSummary(
    {
      accepted: () => devnet.fleet?.stats().accepted,
      claimCounts: () => devnet.store.worker.claimCounts(),
      runCounts: () => devnet.store.worker.runCounts(),
      ownersHold: async () => {
        let total = 0n;
        for (const o of devnet.owners) total += await devnet.admin.balanceOf(o);
        return total;
      },
    },
    {
      onCounts: (claims, now) => {
        const hint = backlog.sample(claims.pending, now);
        if (hint) console.log(`⚠ ${hint}`);
      },
    },
  );
  let stopping = false;
  const shutdown = async () => {
    if (stopping) {
      // A second Ctrl-C: the user does not want to wait for the proofs and transactions under way.
      console.error("✗ stopped without waiting (work under way is picked up again on the next start with --state).");
      process.exit(130);
    }
    stopping = true;
    summary.stop();
    console.log("\nstopping: fleet, worker, gateway, chain… (Ctrl-C again to stop at once)");
    try {
      await devnet.stop();
    } catch (err) {
      console.error(`✗ the devnet did not stop cleanly: ${(err as Error).message}`);
      process.exit(1);
    }
    console.log("stopped cleanly.");
    process.exit(0);
  };
  process.on("SIGINT", shutdown);
  process.on("SIGTERM", shutdown);
}
