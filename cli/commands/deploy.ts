/**
 * `mfi deploy [dir]`: compile an applet, compile its Wasm into its circuits (one per K the worker proves with; dev
 * keys, cached), deploy their generated verifiers and register its imageId on L1 with them and its reward per unit.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { SingleBar, Presets } from "cli-progress";
import type { Command } from "commander";
import { JsonRpcProvider } from "ethers";
import {
  createMachinefiClient,
  DEV_KEYS_CHAIN_ID,
  DEV_KEYS_OPT_IN,
  DevVerifiersRefusedError,
  readManifest,
  type MachinefiClient,
} from "../../contracts/index.ts";
import { compiledVerifiers } from "../devnet/applets.ts";
import { imageIdHex } from "../../core/index.ts";
import { imageIdOf } from "../../runtime/index.ts";
import { loadAppletManifest } from "../../toolchain/index.ts";
import { loadConfig } from "../config.ts";
import { checkProvable, compileChecked } from "../applet-checks.ts";
import { exitCodeOf, UnreachableError, UsageError } from "../errors.ts";
import { appletDir } from "./test.ts";
import { handToWorker, workerTarget } from "../deploy-worker.ts";

export interface ChainFlags {
  rpc?: string;
  key?: string;
  deployments?: string;
  state?: string;
}

/** The chain named by flags, else MFI_RPC_URL / MFI_PRIVATE_KEY (the configuration): both must be given. */
export function chainConfig(flags: ChainFlags): { rpcUrl: string; privateKey: string } {
  const cfg = loadConfig({
    overrides: { ...(flags.rpc ? { rpcUrl: flags.rpc } : {}), ...(flags.key ? { privateKey: flags.key } : {}) },
  });
  if (!cfg.rpcUrl || !cfg.privateKey)
    throw new UsageError("no chain: pass --rpc <url> --key <0x…> (or set MFI_RPC_URL and MFI_PRIVATE_KEY)");
  return { rpcUrl: cfg.rpcUrl, privateKey: cfg.privateKey };
}

/** A client for the chain (chainConfig(flags), unless the caller loaded it already), with the manifest deployed there. */
export async function connect(flags: ChainFlags, cfg = chainConfig(flags)): Promise<MachinefiClient> {
  const provider = new JsonRpcProvider(cfg.rpcUrl);
  let chainId: bigint;
  try {
    chainId = (await provider.getNetwork()).chainId;
  } catch (err) {
    throw new UnreachableError(`${cfg.rpcUrl}: ${(err as Error).message}`, {
      hint: "is the node or `mfi devnet` running?",
      cause: err,
    });
  } finally {
    provider.destroy();
  }
  const dir = flags.deployments ?? (flags.state ? join(flags.state, "deployments") : undefined);
  const manifest = readManifest(chainId, dir);
  return createMachinefiClient({ rpcUrl: cfg.rpcUrl, privateKey: cfg.privateKey, manifest });
}

export function chainOptions(cmd: Command): Command {
  return cmd
    .option("--rpc <url>", "EVM JSON-RPC URL (default MFI_RPC_URL)")
    .option("--key <hex>", "private key sending the transaction (default MFI_PRIVATE_KEY)")
    .option("--deployments <dir>", "where the deployment manifest <chainId>.json is (default deployments/)")
    .option("--state <dir>", "a devnet state directory (its deployments/ are used)");
}

/** --makers / --any-device: which devices the applet pays (undefined: neither given; a devnet then pays any). */
export function devicesOption(o: { makers?: string; anyDevice?: boolean }): "any" | { makers: number[] } | undefined {
  if (o.makers !== undefined && o.anyDevice) throw new UsageError("--makers and --any-device exclude each other");
  if (o.anyDevice) return "any";
  if (o.makers === undefined) return undefined;
  const ids = o.makers.split(",").map((x) => x.trim());
  if (ids.length === 0 || ids.some((x) => !/^[1-9]\d{0,8}$/.test(x)))
    throw new UsageError(
      `--makers ${o.makers}: give maker ids (positive integers), comma-separated, e.g. --makers 1,4`,
    );
  return { makers: ids.map(Number) };
}

/**
 * What to do so a worker runs the applet when the command found no worker database: a worker runs the applets in its
 * own database, and the Wasm is not on chain (cli/deploy-worker.ts).
 */
export const WORKER_NEXT_STEP =
  "next: no worker was given this applet (registered on L1 only; a worker runs the applets in its database): rerun with --db <file|postgres://…> (the workers' database) or --state <devnet dir> to hand it over (an applet already registered is only handed over); a running devnet on this chain is found without either";

export function register(program: Command): void {
  chainOptions(
    program
      .command("deploy [dir]")
      .description(
        "compile an applet and its circuits, deploy their verifiers and register its imageId on L1 with its reward per unit",
      ),
  )
    .option("--reward <wei>", "reward per output unit (default: applet.json rewardPerUnit)")
    .option("--mock-verifier", "register with the MockVerifier (devnets only: proves nothing)")
    .option("--makers <ids>", "pay only devices of these makers (comma-separated maker ids, `mfi maker show`)")
    .option("--any-device", "pay any registered device, attested or not (an open network)")
    .option(
      DEV_KEYS_OPT_IN,
      "deploy the applet's DEV-key verifiers (public seed: anyone can forge) to a chain other than 31337",
    )
    .option(
      "--db <file|url>",
      "the workers' database (SQLite file or postgres:// URL) to hand the applet to (default: --state's, or the running devnet's on this chain)",
    )
    .option("--json", "print the result as JSON")
    .addHelpText(
      "after",
      "\nThe applet's Wasm is compiled into one circuit per K (16, 64) and each is set up with DEV keys on first use\n(progress on stderr, cached under build/applet-circuits/); an applet the compiler cannot express is refused with\nNotProvableError (exit 2).\n\nWhich devices it pays: --makers <ids> (devices its makers registered or attested) or --any-device; one of the\ntwo is required except on a devnet (chain 31337), where any device is paid by default.\n\nExamples:\n  $ mfi deploy ./my-meter --rpc http://127.0.0.1:8545 --key 0xac09… --state .mfi/devnet\n  $ mfi deploy ./my-meter --makers 1,4 --rpc https://babel-api.testnet.iotex.io --key 0x… --dev-keys-i-know-they-are-insecure\n\nExit codes: 0 registered (or already registered), 1 the transaction failed, 2 bad usage, no applet, refused (ValidationError, as mfi validate) or not provable (checked before connecting), 3 chain unreachable or no deployment manifest.\n\nThe workers run it from the epoch running now on: the applet (its Wasm, checked to be the registered imageId) is\nadded to the workers' database: --db, --state's, or by default the running devnet's when --rpc is its chain (a\ndevnet with mock proofs gets the MockVerifier). A running worker sees it on its next pass. Without a database it\nis registered on L1 only, and the command says so.",
    )
    .action(
      async (
        target: string | undefined,
        opts: ChainFlags & {
          reward?: string;
          mockVerifier?: boolean;
          makers?: string;
          anyDevice?: boolean;
          json?: boolean;
          devKeysIKnowTheyAreInsecure?: boolean;
          db?: string;
        },
      ) => {
        const bar =
          opts.json || !process.stderr.isTTY
            ? undefined
            : new SingleBar({ format: "deploy [{bar}] {step}", clearOnComplete: true }, Presets.shades_classic);
        let client: MachinefiClient | undefined;
        try {
          const devices = devicesOption(opts);
          const dir = appletDir(target ?? ".");
          const m = loadAppletManifest(dir);
          bar?.start(3, 0, { step: "compiling" });
          // issue 22: refused as by mfi validate (and not provable: refused) before the chain is touched
          const wasm = await compileChecked(join(dir, "assembly", "index.ts"));
          checkProvable(wasm, m.param !== undefined);
          const imageId = imageIdHex(imageIdOf(wasm));
          mkdirSync(join(dir, "build"), { recursive: true });
          writeFileSync(join(dir, "build", `${m.name}.wasm`), wasm);
          bar?.update(1, { step: "connecting" });
          // issue 22: the workers' database the applet goes to (the running devnet's on this chain by default)
          const rpcUrl = opts.rpc ?? loadConfig().rpcUrl;
          const workerDb = rpcUrl ? workerTarget({ db: opts.db, state: opts.state, rpcUrl }) : undefined;
          const useDevnetManifest = workerDb?.devnetDir && !opts.deployments && !opts.state;
          client = await connect(useDevnetManifest ? { ...opts, state: workerDb.devnetDir } : opts);
          const mockVerifier = opts.mockVerifier || (!!workerDb?.mockProofs && BigInt(client.chainId) === 31337n);
          if (mockVerifier && !opts.mockVerifier)
            console.error("the devnet makes mock proofs: registering with the MockVerifier");
          bar?.update(2, { step: "registering on L1" });
          if (!devices && BigInt(client.chainId) !== BigInt(DEV_KEYS_CHAIN_ID))
            throw new UsageError(
              "say which devices the applet pays: --makers <ids> (devices its makers registered or attested) or --any-device (an open network: anyone can mint a device)",
            );
          const existing = await client.appletOf(imageId);
          let tx: string | undefined;
          if (existing.owner === "0x0000000000000000000000000000000000000000") {
            if (
              !mockVerifier &&
              BigInt(client.chainId) !== BigInt(DEV_KEYS_CHAIN_ID) &&
              !opts.devKeysIKnowTheyAreInsecure
            )
              throw new DevVerifiersRefusedError(
                `refusing to deploy ${m.name}'s dev-key verifiers to chain ${client.chainId}: their keys come from a public seed, so anyone can forge claims`,
                { metaMessages: [`Pass ${DEV_KEYS_OPT_IN} for a throwaway test chain.`] },
              );
            bar?.update(2, { step: "compiling the applet's circuits" });
            const compiled = mockVerifier
              ? []
              : await compiledVerifiers({
                  wasm,
                  hasParam: m.param !== undefined,
                  log: (msg) => (opts.json ? undefined : console.error(msg)),
                });
            if (!Array.isArray(compiled)) throw compiled;
            const r = await client.registerApplet({
              imageId,
              verifier: mockVerifier ? "mock" : { compiled },
              rewardPerUnit: BigInt(opts.reward ?? m.rewardPerUnit),
              param: m.param === undefined ? undefined : BigInt(m.param),
              // on a devnet, an applet without its own epoch length gets the devnet's, as the devnet's own applets do
              epochLengthMs:
                m.epochLengthMs !== undefined
                  ? BigInt(m.epochLengthMs)
                  : workerDb?.epochMs !== undefined
                    ? BigInt(workerDb.epochMs)
                    : undefined,
              devices: devices ?? "any",
            });
            tx = r.hash;
          }
          bar?.update(3, { step: workerDb ? "handing to the worker" : "done" });
          const handed =
            workerDb &&
            (await handToWorker({
              target: workerDb,
              client,
              spec: {
                imageId,
                name: m.name,
                wasm,
                param: m.param === undefined ? undefined : BigInt(m.param),
                rewardPerUnit: BigInt(opts.reward ?? m.rewardPerUnit),
              },
            }));
          bar?.stop();
          const out = {
            name: m.name,
            imageId,
            rewardPerUnit: opts.reward ?? m.rewardPerUnit,
            txHash: tx ?? null,
            alreadyRegistered: !tx,
            worker: handed ? { database: workerDb!.location, fromMs: handed.fromMs } : null,
          };
          if (opts.json) console.log(JSON.stringify(out, null, 2));
          else
            console.log(
              tx
                ? `registered ${m.name}: imageId ${imageId} (tx ${tx})`
                : `${m.name} is already registered: imageId ${imageId} (a changed source gets a new imageId)`,
            );
          // issue 22: what the workers do with it now (stderr: stdout stays the result)
          if (handed)
            console.error(
              `handed to the worker (${workerDb!.via} database ${workerDb!.location}): it runs ${m.name} from the epoch starting ${new Date(handed.fromMs).toISOString()} (epochs of ${handed.epochLengthMs / 1000} s); its claims follow when that epoch ends${handed.paused ? "; ⚠ the applet is paused on L1: its claims are not paid until it is resumed" : ""}`,
            );
          else console.error(WORKER_NEXT_STEP);
        } catch (err) {
          bar?.stop();
          const e = err as Error & { details?: string };
          if (opts.json) console.log(JSON.stringify({ error: e.message, name: e.name, details: e.details }));
          else console.error(`${e.message}${e.details && !e.message.includes(e.details) ? `\n${e.details}` : ""}`);
          process.exitCode = exitCodeOf(err);
        } finally {
          client?.close();
        }
      },
    );
}
