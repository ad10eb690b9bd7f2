/**
 * BatchVault from TypeScript (issue 26): deploys it next to a deployment (circomlib's Poseidon(2) as poseidon-solidity's
 * PoseidonT3 library for the empty tree's root, the vault, its minter role), switches applets to batches, sets batch
 * verifiers, submits batch proofs with their credits, withdraws earnings and records facts from a credit's keccak
 * proof (circuits/batch/credits.ts builds both). Every revert comes back as a typed ContractRevertedError.
 */
import { AbiCoder, Contract, ContractFactory, id, type ContractRunner, type Log, type Wallet } from "ethers";
import { creditProofOf, creditsTree, decodeCredits, type CreditRecord } from "../circuits/index.ts";
import { createRequire } from "node:module";
import { withAccessList } from "./access-list.ts";
import { getArtifact } from "./artifacts.ts";
import type { DeploymentManifest } from "./deploy.ts";
import { makeProvider, makeWallet } from "./provider.ts";
import { toContractsError } from "./revert.ts";
import { deployVerifier, type VerifierSource } from "./verifier-deploy.ts";

// poseidon-solidity is CommonJS whose exports Node's ESM loader cannot see by name: loaded through require
const { PoseidonT3 } = createRequire(import.meta.url)("poseidon-solidity") as typeof import("poseidon-solidity");

type G1 = readonly [bigint, bigint];
type G2 = readonly [readonly [bigint, bigint], readonly [bigint, bigint]];

/** The vault's proof bytes for a snarkjs-order proof: b's coordinate pairs swapped into the verifier's order. */
export function encodeBatchProof(p: { a: G1; b: G2; c: G1 }): string {
  const b = [
    [p.b[0][1], p.b[0][0]],
    [p.b[1][1], p.b[1][0]],
  ];
  return AbiCoder.defaultAbiCoder().encode(["uint256[2]", "uint256[2][2]", "uint256[2]"], [p.a, b, p.c]);
}

async function deployRaw(wallet: Wallet, abi: unknown[], bytecode: string, args: unknown[] = []): Promise<string> {
  const c = await new ContractFactory(abi as never, bytecode, wallet).deploy(...args);
  await c.waitForDeployment();
  return c.getAddress();
}

/** A device's credit in one batch with its keccak Merkle proof (circuits/batch/credits.ts `creditsTree`). */
export interface CreditProof {
  output: bigint;
  cumulative: bigint;
  firstEpoch: bigint;
  /** Epochs between the batch's epoch and the device's latest credited one (0 unless a late credit). */
  lag: bigint;
  /** The batch's credits root (0x…, 32 bytes). */
  batch: string;
  proof: readonly string[];
}

/** BatchVault.Credit: the credit's fields packed in one word as in S (lag, cumulative, output, first epoch). */
export function creditRecord(c: Pick<CreditProof, "output" | "cumulative" | "firstEpoch" | "lag">): bigint {
  const fields = [
    ["output", c.output, 64n],
    ["cumulative", c.cumulative, 96n],
    ["firstEpoch", c.firstEpoch, 80n],
    ["lag", c.lag, 8n],
  ] as const;
  for (const [name, v, bits] of fields)
    if (v < 0n || v >> bits !== 0n) throw new RangeError(`credit ${name} ${v} does not fit in ${bits} bits`);
  return (c.lag << 240n) | (c.cumulative << 144n) | (c.output << 80n) | c.firstEpoch;
}

const TRANSFER = id("Transfer(address,address,uint256)");

const creditArgs = (c: CreditProof) => [creditRecord(c), c.batch, [...c.proof]];

export interface BatchVaultClient {
  address: string;
  wallet: Wallet;
  /** AppletRegistry.setBatchVault(imageId, this vault): the applet is credited by batches only from now on. */
  enableBatches(imageId: string): Promise<{ gasUsed: bigint }>;
  /** Compiles (cached), deploys and sets the batch circuit's verifier for batches of `n`. */
  setBatchVerifier(o: { imageId: string; n: number; verifier: VerifierSource | string }): Promise<string>;
  submitBatch(o: {
    imageId: string;
    n: number;
    epoch: bigint;
    prevRoot: bigint;
    newRoot: bigint;
    /** The credits' bytes (circuits/batch/credits.ts `encodeCredits`, a BatchProof's creditsData). */
    credits: string;
    proof: string;
  }): Promise<{ gasUsed: bigint; creditsRoot: string }>;
  withdraw(o: {
    imageId: string;
    deviceId: bigint;
    credit: CreditProof;
  }): Promise<{ gasUsed: bigint; owner: string; units: bigint; reward: bigint }>;
  /** BatchVault.recordFact: the device's credit in its batch makes (imageId, device, epoch) a fact. */
  recordFact(o: { imageId: string; deviceId: bigint; credit: CreditProof }): Promise<{ gasUsed: bigint }>;
  /** The epoch of the applet's batch with this credits root (0n: none). */
  batchEpochOf(imageId: string, creditsRoot: string): Promise<bigint>;
  /**
   * The device's credit in the applet's latest batch that credited it, read from the chain alone (BatchCredited
   * events and their transactions' calldata): what withdraw needs to pay everything the device earned. Undefined
   * when no batch credited it. Batches sent through another contract (not a direct submitBatch call) are skipped.
   * `validUntilMs` (the key's, when it was rotated or revoked): only credits whose epoch ended by then, since the
   * vault refuses a withdrawal whose credit covers epochs past the key's window.
   */
  latestCredit(
    imageId: string,
    deviceId: bigint,
    o?: { fromBlock?: number; validUntilMs?: bigint },
  ): Promise<(CreditProof & { epoch: bigint }) | undefined>;
  factOf(imageId: string, deviceId: bigint, epoch: bigint): Promise<{ proven: boolean; output: bigint }>;
  rootOf(imageId: string): Promise<bigint>;
  withdrawnOf(imageId: string, deviceId: bigint): Promise<bigint>;
  close(): void;
}

/**
 * Deploys Poseidon(2) and a BatchVault of `depth` for a deployment, and grants it the reward token's
 * minter role (the key must be the deployer: admin of the token).
 */
export async function deployBatchVault(o: {
  rpcUrl: string;
  privateKey: string;
  manifest: DeploymentManifest;
  depth: number;
}): Promise<string> {
  const provider = makeProvider(o.rpcUrl, o.manifest.chainId);
  const wallet = makeWallet(o.privateKey, provider);
  try {
    // the libraries' hash functions are public and pure: deployed as they are, they are called like contracts
    const p2 = await deployRaw(wallet, ["function hash(uint256[2]) pure returns (uint256)"], PoseidonT3.bytecode);
    const art = getArtifact("BatchVault");
    const c = o.manifest.contracts;
    const vault = await deployRaw(wallet, art.abi as unknown[], art.bytecode, [
      c.DeviceRegistry,
      c.AppletRegistry,
      c.RewardToken,
      p2,
      o.depth,
    ]);
    const token = new Contract(c.RewardToken, getArtifact("RewardToken").abi as never, wallet);
    await (await token.getFunction("grantRole")(id("MINTER_ROLE"), vault)).wait();
    return vault;
  } catch (e) {
    throw toContractsError(e, "deploying BatchVault");
  } finally {
    provider.destroy();
  }
}

/** One credited batch as the chain records it: its epoch, credits root and credits (from its calldata). */
export interface CreditedBatch {
  epoch: bigint;
  creditsRoot: string;
  credits: CreditRecord[];
  blockNumber: number;
}

/** Blocks per eth_getLogs query: public nodes refuse wider ranges (IoTeX's and most providers' limits are 10,000 or
 * less). */
export const LOG_RANGE = 5_000;

/**
 * The applet's credited batches in the order the vault credited them, from the chain alone: BatchCredited events,
 * then each one's transaction calldata (the credits). Events are read from the vault's deployment block (`deployedAt`)
 * or `fromBlock`, `logRange` blocks per query. A batch sent through another contract (no direct submitBatch call to
 * the vault) cannot be read this way and is skipped; so is one whose calldata does not hash to its event's credits
 * root.
 */
export async function creditedBatchesOf(o: {
  provider: ContractRunner["provider"];
  vault: Contract;
  address: string;
  imageId: string;
  fromBlock?: number;
  logRange?: number;
}): Promise<CreditedBatch[]> {
  const out: CreditedBatch[] = [];
  const range = o.logRange ?? LOG_RANGE;
  if (!Number.isInteger(range) || range < 1) throw new RangeError(`logRange ${range} is not a positive integer`);
  const start = o.fromBlock ?? Number((await o.vault.getFunction("deployedAt")()) as bigint);
  const latest = await o.provider!.getBlockNumber();
  const filter = o.vault.filters.BatchCredited!(o.imageId);
  const logs = [];
  for (let from = start; from <= latest; from += range)
    logs.push(...(await o.vault.queryFilter(filter, from, Math.min(from + range - 1, latest))));
  for (const log of logs) {
    const ev = o.vault.interface.parseLog(log)!;
    const tx = await o.provider!.getTransaction(log.transactionHash);
    const call = tx && tx.to?.toLowerCase() === o.address.toLowerCase() ? o.vault.interface.parseTransaction(tx) : null;
    if (!call || call.name !== "submitBatch") continue;
    const epoch = ev.args[1] as bigint;
    const credits = decodeCredits(call.args[5] as string);
    if (credits.length === 0 || creditsTree(credits, epoch).root !== ev.args[4]) continue;
    out.push({ epoch, creditsRoot: ev.args[4] as string, credits, blockNumber: log.blockNumber });
  }
  return out;
}

export function batchVaultClient(o: {
  rpcUrl: string;
  privateKey: string;
  manifest: DeploymentManifest;
  address: string;
}): BatchVaultClient {
  const provider = makeProvider(o.rpcUrl, o.manifest.chainId);
  const wallet = makeWallet(o.privateKey, provider);
  const vault = new Contract(o.address, getArtifact("BatchVault").abi as never, wallet);
  const applets = new Contract(o.manifest.contracts.AppletRegistry, getArtifact("AppletRegistry").abi as never, wallet);
  const send = async (c: Contract, fn: string, args: unknown[]) => {
    try {
      const req = await c.getFunction(fn).populateTransaction(...args);
      const tx = await wallet.sendTransaction(await withAccessList(provider, req, wallet.address));
      const r = await tx.wait();
      return r!;
    } catch (e) {
      throw toContractsError(e, `BatchVault ${fn}`);
    }
  };
  let tokenAddress: string | undefined;
  /** The vault's reward token (immutable): read once, before a withdrawal is sent, so reading it cannot fail after. */
  const rewardToken = async (): Promise<string> => {
    try {
      return (tokenAddress ??= ((await vault.getFunction("token")()) as string).toLowerCase());
    } catch (e) {
      throw toContractsError(e, "BatchVault token");
    }
  };
  /** What a withdrawal paid `owner`: the reward token's mint to it in the receipt (none when rewardPerUnit is 0). */
  const mintedTo = (logs: readonly Log[], token: string, owner: string): bigint => {
    const mint = logs.find(
      (l) =>
        l.address.toLowerCase() === token &&
        l.topics[0] === TRANSFER &&
        BigInt(l.topics[1]!) === 0n &&
        BigInt(l.topics[2]!) === BigInt(owner),
    );
    return mint ? BigInt(mint.data) : 0n;
  };
  /** The vault's event of this name in a receipt's logs (other contracts' logs are skipped). */
  const eventIn = (logs: readonly Log[], name: string) =>
    logs
      .map((l) => {
        try {
          return vault.interface.parseLog(l);
        } catch {
          return null;
        }
      })
      .find((l) => l?.name === name);
  return {
    address: o.address,
    wallet,
    async enableBatches(imageId) {
      const r = await send(applets, "setBatchVault", [imageId, o.address]);
      return { gasUsed: r.gasUsed };
    },
    async setBatchVerifier(p) {
      const verifier = typeof p.verifier === "string" ? p.verifier : await deployVerifier(wallet, p.verifier);
      await send(vault, "setBatchVerifier", [p.imageId, p.n, verifier]);
      return verifier;
    },
    async submitBatch(p) {
      const r = await send(vault, "submitBatch", [p.imageId, p.n, p.epoch, p.prevRoot, p.newRoot, p.credits, p.proof]);
      const ev = eventIn(r.logs, "BatchCredited");
      return { gasUsed: r.gasUsed, creditsRoot: ev!.args[4] as string };
    },
    async withdraw(p) {
      const token = await rewardToken();
      const r = await send(vault, "withdraw", [p.imageId, p.deviceId, ...creditArgs(p.credit)]);
      const ev = eventIn(r.logs, "EarningsWithdrawn");
      const owner = ev!.args[2] as string;
      return { gasUsed: r.gasUsed, owner, units: ev!.args[3] as bigint, reward: mintedTo(r.logs, token, owner) };
    },
    async recordFact(p) {
      const r = await send(vault, "recordFact", [p.imageId, p.deviceId, ...creditArgs(p.credit)]);
      return { gasUsed: r.gasUsed };
    },
    async latestCredit(imageId, deviceId, lo = {}) {
      const batches = await creditedBatchesOf({
        provider,
        vault,
        address: o.address,
        imageId,
        fromBlock: lo.fromBlock,
      });
      // the latest batch crediting the device has its highest cumulative (late credits included); a credit whose
      // latest covered epoch (lag epochs after its batch's) ends past the key's window is skipped
      for (const b of batches.reverse()) {
        const c = b.credits.find((x) => x.deviceId === deviceId);
        if (!c) continue;
        const e = b.epoch + ((c.lag * (b.epoch & 0xffffffffn)) << 32n);
        if (lo.validUntilMs && (e >> 32n) + (e & 0xffffffffn) > lo.validUntilMs) continue;
        return { ...creditProofOf(b.credits, b.epoch, deviceId), epoch: b.epoch };
      }
      return undefined;
    },
    async batchEpochOf(imageId, creditsRoot) {
      return (await vault.getFunction("batchEpochOf")(imageId, creditsRoot)) as bigint;
    },
    async factOf(imageId, deviceId, epoch) {
      const [proven, output] = (await vault.getFunction("factOf")(imageId, deviceId, epoch)) as [boolean, bigint];
      return { proven, output };
    },
    async rootOf(imageId) {
      return (await vault.getFunction("rootOf")(imageId)) as bigint;
    },
    async withdrawnOf(imageId, deviceId) {
      return (await vault.getFunction("withdrawnOf")(imageId, deviceId)) as bigint;
    },
    close() {
      provider.destroy();
    },
  };
}
