/**
 * Deploys every contract to any EVM RPC and writes the deployment manifest `.mfi/deployments/<chainId>.json`.
 * The same code deploys to anvil and to a public chain (IoTeX testnet, chain id 4690, via MFI_RPC_URL and
 * MFI_PRIVATE_KEY). MockVerifier is only used for registration on a devnet, or when explicitly allowed; DevToken (free mint) only
 * on a devnet. The dev Groth16 verifiers only go to chain 31337 (verifier-keys.ts says why); other chains get a
 * production build's verifiers, with each zkey's sha256 in the manifest.
 */
import { mkdirSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { Contract, ContractFactory, ZeroHash as ZERO_HASH, id, type Wallet } from "ethers";
import { generatedVerifierNames, getArtifact, loadArtifacts } from "./artifacts.ts";
import { ROOT } from "./compile.ts";
import { ContractsEnvironmentError, ContractsError } from "./errors.ts";
import { isDevnet, makeProvider, makeWallet } from "./provider.ts";
import {
  DEV_KEYS_CHAIN_ID,
  DEV_KEYS_OPT_IN,
  DevVerifiersRefusedError,
  loadProductionVerifiers,
  PROD_BUILD_DIR,
  type ProductionVerifier,
} from "./verifier-keys.ts";

export interface ReducerVerifiers {
  /** Public signals per proof: 4, or 5 when the reducer has a parameter. */
  arity: number;
  /** Segment size k (as a decimal string) → generated verifier address. */
  verifiers: Record<string, string>;
}

export interface DeploymentManifest {
  chainId: number;
  deployer: string;
  /** Block of the first deployment transaction (start indexing events here). */
  block: number;
  deployedAt: string;
  sourceHash: string;
  evmVersion: string;
  contracts: {
    RewardToken: string;
    /** Device makers admitted by governance (the deployer governs and is admitted as maker 1, "machinefi dev"). */
    MakerRegistry: string;
    /** Device tokens (ERC-721): tokenId = the deviceId a device was registered with. */
    DeviceRegistry: string;
    AppletRegistry: string;
    PayoutVault: string;
    /** Data streams for sale (list, subscribe, fee); bound to DeviceRegistry. */
    DataMarket: string;
    MockVerifier?: string;
    /** Devnets only: a worthless ERC-20 anyone may mint, for buyers and example consumers to pay with. */
    DevToken?: string;
  };
  /** Generated Groth16 verifier per circuit, e.g. `register`, `readings_sum_16`. */
  verifiers: Record<string, string>;
  /** Generated readings verifiers per reducer (`sum`, `count_above`, `max`): register applets with `{ reducer }`. */
  reducers: Record<string, ReducerVerifiers>;
  /** Which verifier DeviceRegistry checks registrations with. */
  registerVerifier: "generated" | "mock";
  /** Where the Groth16 verifiers' keys come from: the public-seed dev setup (forgeable) or a production build. */
  verifierKeys: "dev" | "production";
  /** Production deployments: sha256 (hex) of the zkey each verifier was exported from, by circuit name. */
  zkeys?: Record<string, string>;
}

export interface DeployOptions {
  rpcUrl: string;
  privateKey: string;
  /** Where to write `<chainId>.json`; default `<repo>/.mfi/deployments`; false to skip writing. */
  manifestDir?: string | false;
  /** Deploy MockVerifier and use it for registration when no generated register verifier exists (default: devnets only). */
  allowMockVerifier?: boolean;
  /** Register devices through MockVerifier even when the generated register verifier exists (tests; needs allowMockVerifier on non-devnets). */
  mockRegistration?: boolean;
  /** DataMarket governance; default: the deployer governs, no protocol fee, fees (if set later) to the deployer. */
  market?: MarketGovernance;
  /** Deploy DevToken, a free-mint test stablecoin (default: devnets only; refused elsewhere). */
  devToken?: boolean;
  /**
   * Deploy the dev verifiers (contracts/generated/, keys from a public seed: anyone can forge proofs) to a chain other
   * than 31337. Off by default: other chains get the verifiers of `productionKeys`. CLI: --dev-keys-i-know-they-are-insecure.
   */
  devKeysIKnowTheyAreInsecure?: boolean;
  /** A production build's directory (default build/circuits-prod/): its verifiers replace the dev ones. Off 31337 it is required. */
  productionKeys?: string;
  log?: (msg: string) => void;
}

export interface MarketGovernance {
  /** Account holding DEFAULT_ADMIN_ROLE and GOVERNANCE_ROLE on DataMarket (default: the deployer). */
  governance?: string;
  /** Protocol fee in basis points, at most DataMarket.MAX_FEE_BPS = 1000 (default 0). */
  feeBps?: number;
  /** Who receives the fee (default: the governance account). */
  feeRecipient?: string;
}

/** Parameter arity of each reducer's circuit: count_above carries its threshold as a fifth public signal. */
export const REDUCER_ARITY: Record<string, number> = { sum: 4, max: 4, count_above: 5 };

/** The maker the deployer is admitted as (maker id 1). */
export const DEV_MAKER_NAME = "machinefi dev";

export const DEFAULT_MANIFEST_DIR = join(ROOT, ".mfi", "deployments");

/** Deploys one compiled contract by artifact name and returns its address. */
export async function deployContract(
  wallet: Wallet,
  name: string,
  args: unknown[] = [],
  log: (m: string) => void = () => {},
): Promise<string> {
  return deployArtifact(wallet, getArtifact(name), name, log, args);
}

async function deployArtifact(
  wallet: Wallet,
  art: { abi: readonly unknown[]; bytecode: string },
  name: string,
  log: (m: string) => void,
  args: unknown[] = [],
): Promise<string> {
  const factory = new ContractFactory(art.abi as never, art.bytecode, wallet);
  const c = await factory.deploy(...args);
  await c.waitForDeployment();
  const address = await c.getAddress();
  log(`deployed ${name} at ${address}`);
  return address;
}

export async function deployAll(opts: DeployOptions): Promise<DeploymentManifest> {
  const log = opts.log ?? (() => {});
  const artifacts = loadArtifacts();
  const provider = makeProvider(opts.rpcUrl);
  let chainId: bigint;
  try {
    chainId = (await provider.getNetwork()).chainId;
  } catch (cause) {
    provider.destroy();
    throw new ContractsEnvironmentError(`cannot reach the RPC at ${opts.rpcUrl}`, {
      cause,
      metaMessages: ["Check MFI_RPC_URL."],
    });
  }
  const wallet = makeWallet(opts.privateKey, provider);
  try {
    const allowMock = opts.allowMockVerifier ?? isDevnet(chainId);
    if (opts.mockRegistration && !allowMock) {
      throw new ContractsError(`mockRegistration on chain ${chainId} needs allowMockVerifier: true`, {
        metaMessages: ["MockVerifier proofs can be forged by anyone: never use it on a shared chain."],
      });
    }
    const withDevToken = opts.devToken ?? isDevnet(chainId);
    if (withDevToken && !isDevnet(chainId)) {
      throw new ContractsError(`devToken on chain ${chainId}: DevToken is a free-mint test token for devnets only`, {
        metaMessages: ["Let listings use a real ERC-20 on this chain."],
      });
    }
    const feeBps = opts.market?.feeBps ?? 0;
    if (!Number.isInteger(feeBps) || feeBps < 0 || feeBps > 1_000) {
      throw new ContractsError(`market.feeBps must be an integer in 0..1000 (10%), got ${feeBps}`, {
        metaMessages: ["DataMarket caps the protocol fee at MAX_FEE_BPS = 1000."],
      });
    }
    // Dev verifiers are forgeable by anyone who reads the seed: only the local devnet gets them without the opt-in.
    const useDevKeys =
      opts.productionKeys === undefined && (chainId === DEV_KEYS_CHAIN_ID || opts.devKeysIKnowTheyAreInsecure === true);
    let production: ProductionVerifier[] | undefined;
    if (!useDevKeys) {
      try {
        production = loadProductionVerifiers(opts.productionKeys ?? PROD_BUILD_DIR);
      } catch (cause) {
        if (opts.productionKeys !== undefined || !(cause instanceof DevVerifiersRefusedError)) throw cause;
        throw new DevVerifiersRefusedError(
          `refusing to deploy the dev verifiers to chain ${chainId}: their keys come from a public seed, so anyone can forge registrations and claims`,
          {
            cause,
            metaMessages: [
              `Build production keys (\`npm run build:circuits -- --ptau <ceremony.ptau>\`, writes ${PROD_BUILD_DIR}) and deploy again, or pass ${DEV_KEYS_OPT_IN} for a throwaway test chain.`,
            ],
          },
        );
      }
    }
    if (useDevKeys && chainId !== DEV_KEYS_CHAIN_ID)
      log(
        `WARNING: deploying the INSECURE dev verifiers to chain ${chainId} (${DEV_KEYS_OPT_IN}): anyone can forge proofs against them`,
      );
    const names = production ? production.map((v) => v.name) : generatedVerifierNames();
    if (!names.includes("register") && !allowMock) {
      throw new ContractsError("no generated register verifier (contracts/generated/Groth16Verifier_register.sol)", {
        metaMessages: ["Build the circuits first, or pass allowMockVerifier: true for a throwaway test deployment."],
      });
    }
    const block = await provider.getBlockNumber();
    const admin = wallet.address;
    const verifiers: Record<string, string> = {};
    for (const n of names) {
      const prod = production?.find((v) => v.name === n);
      verifiers[n] = prod
        ? await deployArtifact(wallet, prod.artifact, `Groth16Verifier_${n} (production keys)`, log)
        : await deployContract(wallet, `Groth16Verifier_${n}`, [], log);
    }
    const mock = allowMock ? await deployContract(wallet, "MockVerifier", [], log) : undefined;

    const reducers: Record<string, ReducerVerifiers> = {};
    for (const n of names) {
      const m = /^readings_(.+)_(\d+)$/.exec(n);
      if (!m) continue;
      const arity = REDUCER_ARITY[m[1]!];
      if (!arity)
        throw new ContractsError(`unknown reducer ${m[1]} in generated verifier ${n}`, {
          metaMessages: ["Add its arity to REDUCER_ARITY in contracts/deploy.ts."],
        });
      (reducers[m[1]!] ??= { arity, verifiers: {} }).verifiers[m[2]!] = verifiers[n]!;
    }

    const useMock = opts.mockRegistration || !verifiers.register;
    const registerVerifier = useMock ? mock! : verifiers.register!;
    const token = await deployContract(wallet, "RewardToken", [admin], log);
    const makers = await deployContract(wallet, "MakerRegistry", [admin], log);
    const devices = await deployContract(wallet, "DeviceRegistry", [registerVerifier, makers], log);
    const applets = await deployContract(wallet, "AppletRegistry", [admin], log);
    const vault = await deployContract(wallet, "PayoutVault", [devices, applets, token], log);
    const tokenC = new Contract(token, getArtifact("RewardToken").abi as never, wallet);
    await (await tokenC.getFunction("grantRole")(id("MINTER_ROLE"), vault)).wait();
    // the deployer is maker 1 (it registers devnet fleets in batches, as it held MANUFACTURER_ROLE before makers
    // existed); on a shared chain governance admits the real makers and may suspend this one (setMakerActive)
    const makersC = new Contract(makers, getArtifact("MakerRegistry").abi as never, wallet);
    await (await makersC.getFunction("admitMaker")(admin, DEV_MAKER_NAME)).wait();
    const market = await deployMarket(wallet, devices, opts.market, log);
    const devToken = withDevToken ? await deployContract(wallet, "DevToken", [], log) : undefined;

    const manifest: DeploymentManifest = {
      chainId: Number(chainId),
      deployer: admin,
      block,
      deployedAt: new Date().toISOString(),
      sourceHash: artifacts.sourceHash,
      evmVersion: artifacts.evmVersion,
      contracts: {
        RewardToken: token,
        MakerRegistry: makers,
        DeviceRegistry: devices,
        AppletRegistry: applets,
        PayoutVault: vault,
        DataMarket: market,
        ...(mock ? { MockVerifier: mock } : {}),
        ...(devToken ? { DevToken: devToken } : {}),
      },
      verifiers,
      reducers,
      registerVerifier: useMock ? "mock" : "generated",
      verifierKeys: production ? "production" : "dev",
      ...(production ? { zkeys: Object.fromEntries(production.map((v) => [v.name, v.zkeySha256])) } : {}),
    };
    if (opts.manifestDir !== false) {
      const file = writeManifest(manifest, opts.manifestDir ?? DEFAULT_MANIFEST_DIR);
      log(`manifest written to ${file}`);
    }
    return manifest;
  } finally {
    provider.destroy();
  }
}

/**
 * Deploys DataMarket with the deployer as temporary governor (so it can set the fee in the same run), then hands
 * both roles to `governance` when that is another account.
 */
async function deployMarket(
  wallet: Wallet,
  devices: string,
  g: MarketGovernance = {},
  log: (m: string) => void,
): Promise<string> {
  const governance = g.governance ?? wallet.address;
  const recipient = g.feeRecipient ?? governance;
  const address = await deployContract(wallet, "DataMarket", [wallet.address, devices, recipient], log);
  const market = new Contract(address, getArtifact("DataMarket").abi as never, wallet);
  if (g.feeBps) await (await market.getFunction("setFee")(g.feeBps, recipient)).wait();
  if (governance.toLowerCase() !== wallet.address.toLowerCase()) {
    for (const role of [id("GOVERNANCE_ROLE"), ZERO_HASH])
      await (await market.getFunction("grantRole")(role, governance)).wait();
    for (const role of [id("GOVERNANCE_ROLE"), ZERO_HASH])
      await (await market.getFunction("renounceRole")(role, wallet.address)).wait();
  }
  return address;
}

export function writeManifest(manifest: DeploymentManifest, dir = DEFAULT_MANIFEST_DIR): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${manifest.chainId}.json`);
  writeFileSync(file, JSON.stringify(manifest, null, 2) + "\n");
  return file;
}

export function readManifest(chainId: number | bigint, dir = DEFAULT_MANIFEST_DIR): DeploymentManifest {
  const file = join(dir, `${chainId}.json`);
  if (!existsSync(file)) {
    throw new ContractsEnvironmentError(`no deployment manifest for chain ${chainId} (${file})`, {
      metaMessages: ["Deploy first: `mfi deploy-contracts` (or deployAll from contracts/index.ts)."],
    });
  }
  return JSON.parse(readFileSync(file, "utf8")) as DeploymentManifest;
}
