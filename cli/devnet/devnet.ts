/**
 * The embedded devnet behind `npm start` / `mfi dev`: anvil, contracts deployed, gateway on a free port, the epoch
 * worker (runs applets, proves claims, pays them), every applet in applets/ registered on L1, and a simulated fleet.
 * With stateDir the chain, database, device keys and chain positions survive restarts.
 */
import { makeTemporaryState, recordDevnetState } from "../devnet-state.ts";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { Wallet } from "ethers";
import { backendStatus, getDefaultBackend, type EddsaBackend } from "../../device-sdk/index.ts";
import {
  createMachinefiClient,
  deployAll,
  readManifest,
  startAnvil,
  tokenOfKey,
  type Anvil,
  type DeploymentManifest,
  type MachinefiClient,
} from "../../contracts/index.ts";
import {
  ethersMarketReader,
  mqttIngestMetrics,
  registryKeyStatus,
  startEmbeddedBroker,
  startGateway,
  startMqttIngest,
  type RunningGateway,
  type StartGatewayOptions,
} from "../../gateway/index.ts";
import { openStore, type StoreSet } from "../../store/index.ts";
import {
  startWorker,
  type BatchEvent,
  type EpochWorker,
  type RunningWorker,
  type WorkerEvent,
} from "../../worker/index.ts";
import { listApplets } from "../../toolchain/index.ts";
import type { Config } from "../config.ts";
import { createFleet, type Fleet } from "./fleet.ts";
import { registerApplets } from "./applets.ts";
import { devnetBatchVault, switchToBatches } from "./batches.ts";
import { proverSummary } from "../../circuits/index.ts";
import { runDeviceLifecycle } from "./lifecycle.ts";

export interface Devnet {
  rpcUrl: string;
  gatewayUrl: string;
  chainId: bigint;
  manifest: DeploymentManifest;
  store: StoreSet;
  worker: EpochWorker;
  /** Warm the worker's prover pool with the registered applets' keys; resolves when warm (issue 25). */
  proverWarm: RunningWorker["proverWarm"];
  fleet?: Fleet;
  admin: MachinefiClient;
  owners: string[];
  backend: EddsaBackend;
  applets: { name: string; imageId: string }[];
  /** Epoch length the devnet registers its own applets with (--epoch-ms; overrides applet.json). */
  epochMs: number;
  /** Keys: [admin (deployer, manufacturer), operator (submits claims), owners…]. */
  keys: string[];
  /** Where database, chain state, keys and the deployment manifest live. */
  dir: string;
  stop(): Promise<void>;
}

export interface DevnetOptions {
  config: Config;
  log?: (msg: string) => void;
  onEvent?: (e: WorkerEvent) => void;
  /** Start the fleet (default: config.simulate). */
  simulate?: boolean;
  /** Only these applets (names); default all. */
  applets?: string[];
  /** Close epochs from this time on (default: the current epoch); tests post historical readings. */
  fromMs?: number;
  /** Gateway options to override (tests: maxClockSkewMs null to accept historical readings, rateLimit false). */
  gateway?: Partial<StartGatewayOptions>;
  /** Run the worker in this process (default true); false leaves it to a separate process (worker/main.ts). */
  startWorker?: boolean;
  /** MockVerifier proofs: each claim's witness is computed, the Groth16 step skipped (devnets only). */
  mockProofs?: boolean;
  /**
   * Once the first claim is paid, sell the first simulated device and rotate the second one's key (lifecycle.ts):
   * `mfi devnet` turns it on so devices behave as assets on screen; needs a local anvil (the owners' keys).
   */
  lifecycle?: boolean;
  /** Issue 26: credit one applet (energy-sum when there) in batches of this many devices (cli/devnet/batches.ts). */
  batch?: number;
}

export async function startDevnet(o: DevnetOptions): Promise<Devnet> {
  const log = o.log ?? (() => {});
  const cfg = o.config;
  // A temporary state is kept after the devnet stops (mfi status/replay read it) until the next devnet starts.
  const dir = cfg.stateDir ?? makeTemporaryState();
  mkdirSync(dir, { recursive: true });
  recordDevnetState(dir, !cfg.stateDir);
  const cleanup: (() => Promise<void> | void)[] = [];
  const stop = async () => {
    for (const f of cleanup.reverse()) await f();
  };
  try {
    let anvil: Anvil | undefined;
    let rpcUrl = cfg.rpcUrl;
    let keys: string[];
    if (rpcUrl) {
      keys = [cfg.privateKey!];
      log(`using chain at ${rpcUrl}`);
    } else {
      log("starting anvil");
      anvil = await startAnvil({ stateDir: cfg.stateDir ? join(dir, "chain") : undefined });
      cleanup.push(() => anvil!.stop());
      rpcUrl = anvil.rpcUrl;
      keys = anvil.accounts;
    }
    // issue 22: `mfi deploy` to this chain finds this devnet's worker (and whether it makes mock proofs) by the pointer
    recordDevnetState(dir, !cfg.stateDir, { rpcUrl, mockProofs: !!o.mockProofs, epochMs: cfg.epochMs });
    const adminKey = keys[0]!;
    const operatorKey = keys[1] ?? adminKey;
    const owners = (keys.length > 2 ? keys.slice(2, 6) : [adminKey]).map((k) => new Wallet(k).address);

    const manifestDir = join(dir, "deployments");
    let manifest = await reuseManifest(rpcUrl, manifestDir);
    if (manifest) log(`reusing contracts deployed at block ${manifest.block}`);
    else {
      log("deploying contracts");
      manifest = await deployAll({
        rpcUrl,
        privateKey: adminKey,
        manifestDir,
        // mock proofs: key rotations prove through MockVerifier too (the build made no register keys)
        mockRegistration: o.mockProofs,
        log: (m) => log(`  ${m}`),
      });
    }
    const admin = createMachinefiClient({ rpcUrl, privateKey: adminKey, manifest });
    const operator = createMachinefiClient({ rpcUrl, privateKey: operatorKey, manifest });
    cleanup.push(() => {
      admin.close();
      operator.close();
    });
    const chainId = BigInt(manifest.chainId);

    // Readings commit on the store's writer thread, as in production. (It once crashed natively at stop: the thread was
    // terminate()d while better-sqlite3 ran native code; close() now waits for the groups in flight and the thread exits
    // by itself, tested in store/sqlite/writer.test.ts.)
    const store = openStore(join(dir, "machinefi.sqlite"));
    const backend = await getDefaultBackend();
    const crypto = backendStatus();
    log(
      `signatures: ${backend.name} backend${crypto?.fallback ? ` ⚠ the slow fallback (${crypto.reason}); run \`npm run build\` and restart` : ""}`,
    );
    // Data-market streams (/v1/market): buyers prove their DataMarket subscription with a signed request.
    if (!o.mockProofs) {
      log(proverSummary().line);
    }
    const marketReader = ethersMarketReader({ rpcUrl, address: manifest.contracts.DataMarket });
    cleanup.push(() => marketReader.close());
    const market = { reader: marketReader, address: manifest.contracts.DataMarket };
    const keyReader = registryKeyStatus({ rpcUrl, registry: manifest.contracts.DeviceRegistry });
    cleanup.push(() => keyReader.close());
    const gw: RunningGateway = await startGateway({
      store,
      backend,
      port: cfg.port,
      chainId,
      registry: manifest.contracts.DeviceRegistry,
      operatorAuth: false,
      workerStatus: store.worker,
      rpcUrl,
      dashboardAuth: dashboardAuthFromEnv(),
      market,
      // follow key rotations and revocations on DeviceRegistry (gateway/chain-keys.ts)
      keyStatus: keyReader,
      ...o.gateway,
    });
    cleanup.push(() => gw.close());
    log(`gateway listening on ${gw.url}`);
    // An embedded MQTT broker (aedes, MQTT 3.1.1) the gateway ingests from, so half the fleet posts over MQTT (issue 24).
    // MFI_MQTT=0 turns it off; MFI_MQTT_PORT picks its port (default: a free one).
    let mqtt: { url: string; protocolVersion: 4 } | undefined;
    if (process.env.MFI_MQTT !== "0") {
      const broker = await startEmbeddedBroker({ port: Number(process.env.MFI_MQTT_PORT ?? 0) });
      cleanup.push(() => broker.close());
      const registry = gw.gateway.metrics?.registry;
      const ingest = await startMqttIngest({
        url: broker.url,
        ctx: gw.gateway.ingestContext,
        protocolVersion: broker.protocolVersion,
        shareGroup: false,
        onReply: registry && mqttIngestMetrics(registry),
      });
      cleanup.push(() => ingest.close());
      mqtt = { url: broker.url, protocolVersion: broker.protocolVersion };
      log(
        `MQTT broker on ${broker.url} (3.1.1): publish to mfi/v1/devices/{deviceId}/readings/{correlation}, answers on …/acks/{correlation}`,
      );
    }

    // The device lifecycle starts after the first payout, so the dashboard shows the seller paid, then the buyer.
    let lifecycle: Promise<void> | undefined;
    const onEvent = (e: WorkerEvent) => {
      o.onEvent?.(e);
      if (!o.lifecycle || lifecycle || !fleet || keys.length < 4 || e.type !== "claim" || e.state !== "paid") return;
      lifecycle = runDeviceLifecycle({
        fleet,
        backend,
        rpcUrl: rpcUrl!,
        manifest: manifest!,
        ownerKeys: keys.slice(2, 6),
        log,
      }).then(
        () => undefined,
        (err: Error) => log(`⚠ the device lifecycle (sale, key rotation) failed: ${err.message}`),
      );
    };
    cleanup.push(() => lifecycle);
    if (o.batch && o.mockProofs) throw new Error("--batch makes real batch proofs: drop --mock-proofs");
    const batchVault = o.batch ? await devnetBatchVault({ dir, rpcUrl, adminKey, manifest, log }) : undefined;
    const running = startWorker({
      store,
      workerStore: store.worker,
      client: operator,
      epochMs: cfg.epochMs,
      graceMs: cfg.epochGraceMs,
      maxAttempts: cfg.maxClaimAttempts,
      proverConcurrency: cfg.proverConcurrency,
      proofs: o.mockProofs ? "mock" : "groth16",
      log,
      onEvent,
      autostart: false,
      ...(batchVault && store.batches
        ? {
            batch: {
              vault: batchVault,
              size: o.batch!,
              deadlineMs: cfg.epochMs,
              batches: store.batches,
              onEvent: (e: BatchEvent) => {
                if (e.type === "batch" && e.state !== "proving")
                  log(
                    `batch #${e.batchId} ${e.state}${e.devices ? ` (${e.devices} devices)` : ""}${e.txHash ? ` tx ${e.txHash.slice(0, 12)}…` : ""}${e.detail ? `: ${e.detail.split("\n")[0]}` : ""}`,
                  );
              },
            },
          }
        : {}),
    });
    cleanup.push(() => running.stop());
    const worker = running.worker;

    const applets = await registerApplets({
      admin,
      worker,
      names: o.applets,
      log,
      list: listApplets(),
      fromMs: o.fromMs,
      mock: o.mockProofs,
      epochMs: cfg.epochMs,
    });
    let fleet: Fleet | undefined;
    if (o.simulate ?? cfg.simulate) {
      if (cfg.devices > 0) {
        fleet = await createFleet({
          url: gw.url,
          backend,
          devices: cfg.devices,
          readingsPerSecond: cfg.readingsPerSecond,
          batchSize: cfg.batchSize,
          owners,
          chainId,
          registry: manifest.contracts.DeviceRegistry,
          stateDir: cfg.stateDir ? dir : undefined,
          mqtt,
        });
        const missing: bigint[] = [];
        const missingOwners: string[] = [];
        for (const d of fleet.devices) {
          // a key DeviceRegistry knows (the token's first key, or a key rotated in on an earlier run) is registered
          if ((await tokenOfKey(admin, d.key.deviceId)) === 0n) {
            missing.push(d.key.deviceId);
            missingOwners.push(d.owner);
          }
        }
        if (missing.length) {
          // The deployer holds the manufacturer role on devnets: one transaction registers the whole fleet.
          await admin.registerDevicesBatch({ deviceIds: missing, owners: missingOwners });
          log(`registered ${missing.length} devices on L1 (manufacturer batch)`);
        }
        fleet.start();
        cleanup.push(() => fleet!.stop());
      }
    }
    // after the fleet's registration: the verifier is set in the background with the deployer's key, which then
    // sends nothing else (two senders of one key would race for nonces)
    if (batchVault) {
      const a = applets.find((x) => x.name === "energy-sum") ?? applets[0];
      const spec = a && (await store.worker.getApplet(a.imageId));
      if (a && spec)
        await switchToBatches({
          admin,
          rpcUrl,
          adminKey,
          vault: batchVault,
          applet: { name: a.name, imageId: a.imageId, wasm: spec.wasm, hasParam: spec.param !== undefined },
          n: o.batch!,
          log,
        });
    }

    if (o.startWorker !== false) running.start();
    return {
      rpcUrl,
      gatewayUrl: gw.url,
      chainId,
      manifest,
      store,
      worker,
      proverWarm: running.proverWarm,
      fleet,
      admin,
      owners,
      backend,
      applets,
      epochMs: cfg.epochMs,
      keys,
      dir,
      stop,
    };
  } catch (err) {
    await stop().catch(() => {});
    throw err;
  }
}

/** MFI_DASHBOARD_TOKEN protects /dashboard (and /metrics with MFI_DASHBOARD_PROTECT_METRICS=1); unset: open, as on a laptop. */
export function dashboardAuthFromEnv(env: NodeJS.ProcessEnv = process.env): StartGatewayOptions["dashboardAuth"] {
  return env.MFI_DASHBOARD_TOKEN
    ? { token: env.MFI_DASHBOARD_TOKEN, metrics: env.MFI_DASHBOARD_PROTECT_METRICS === "1" }
    : undefined;
}

/** A manifest from an earlier run whose contracts still exist on this chain (a kept --state), else undefined. */
async function reuseManifest(rpcUrl: string, dir: string): Promise<DeploymentManifest | undefined> {
  const { JsonRpcProvider } = await import("ethers");
  const provider = new JsonRpcProvider(rpcUrl);
  try {
    const chainId = (await provider.getNetwork()).chainId;
    let m: DeploymentManifest;
    try {
      m = readManifest(chainId, dir);
    } catch {
      return undefined;
    }
    // The last contract deployed must still have code here: a reset chain (or an older manifest without it) redeploys.
    const code = m.contracts.DataMarket ? await provider.getCode(m.contracts.DataMarket) : "0x";
    return code && code !== "0x" ? m : undefined;
  } finally {
    provider.destroy();
  }
}
