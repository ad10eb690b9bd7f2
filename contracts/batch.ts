/**
 * BatchVault from TypeScript (issue 26): deploys it next to a deployment (circomlib's Poseidon(2) and Poseidon(4)
 * as poseidon-solidity's PoseidonT3 and PoseidonT5 libraries, the vault, its minter role), switches applets to batches, sets batch verifiers,
 * submits batch proofs and withdraws earnings. Every revert comes back as a typed ContractRevertedError.
 */
import { AbiCoder, Contract, ContractFactory, id, type Log, type Wallet } from "ethers";
import { createRequire } from "node:module";
import { getArtifact } from "./artifacts.ts";
import type { DeploymentManifest } from "./deploy.ts";
import { makeProvider, makeWallet } from "./provider.ts";
import { toContractsError } from "./revert.ts";
import { deployVerifier, type VerifierSource } from "./verifier-deploy.ts";

// poseidon-solidity is CommonJS whose exports Node's ESM loader cannot see by name: loaded through require
const { PoseidonT3, PoseidonT5 } = createRequire(import.meta.url)(
  "poseidon-solidity",
) as typeof import("poseidon-solidity");

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

/** A leaf of the earnings tree and its siblings from the leaf up (an empty slot: zeros and the empty tree's path). */
export interface LeafProof {
  cumulative: bigint;
  firstEpoch: bigint;
  lastEpoch: bigint;
  siblings: readonly bigint[];
}

const leafArg = (l: LeafProof) => [l.cumulative, l.firstEpoch, l.lastEpoch, [...l.siblings]];

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
    proof: string;
  }): Promise<{ gasUsed: bigint }>;
  withdraw(o: {
    imageId: string;
    deviceId: bigint;
    cumulative: bigint;
    firstEpoch: bigint;
    lastEpoch: bigint;
    siblings: readonly bigint[];
  }): Promise<{ gasUsed: bigint; owner: string; units: bigint; reward: bigint }>;
  /** BatchVault.recordFact: the device's leaf before the batch (all zeros for an empty slot) and after it. */
  recordFact(o: {
    imageId: string;
    deviceId: bigint;
    epoch: bigint;
    prevRoot: bigint;
    newRoot: bigint;
    before: LeafProof;
    credited: LeafProof;
  }): Promise<{ gasUsed: bigint }>;
  factOf(imageId: string, deviceId: bigint, epoch: bigint): Promise<{ proven: boolean; output: bigint }>;
  rootOf(imageId: string): Promise<bigint>;
  withdrawnOf(imageId: string, deviceId: bigint): Promise<bigint>;
  close(): void;
}

/**
 * Deploys Poseidon(2), Poseidon(4) and a BatchVault of `depth` for a deployment, and grants it the reward token's
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
    const p4 = await deployRaw(wallet, ["function hash(uint256[4]) pure returns (uint256)"], PoseidonT5.bytecode);
    const art = getArtifact("BatchVault");
    const c = o.manifest.contracts;
    const vault = await deployRaw(wallet, art.abi as unknown[], art.bytecode, [
      c.DeviceRegistry,
      c.AppletRegistry,
      c.RewardToken,
      p2,
      p4,
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
      const tx = await c.getFunction(fn)(...args);
      const r = await tx.wait();
      return r!;
    } catch (e) {
      throw toContractsError(e, `BatchVault ${fn}`);
    }
  };
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
      const r = await send(vault, "submitBatch", [p.imageId, p.n, p.epoch, p.prevRoot, p.newRoot, p.proof]);
      return { gasUsed: r.gasUsed };
    },
    async withdraw(p) {
      const r = await send(vault, "withdraw", [
        p.imageId,
        p.deviceId,
        p.cumulative,
        p.firstEpoch,
        p.lastEpoch,
        [...p.siblings],
      ]);
      const ev = r.logs
        .map((l: Log) => {
          try {
            return vault.interface.parseLog(l);
          } catch {
            return null;
          }
        })
        .find((l: ReturnType<typeof vault.interface.parseLog>) => l?.name === "EarningsWithdrawn");
      return {
        gasUsed: r.gasUsed,
        owner: ev!.args[3] as string,
        units: ev!.args[4] as bigint,
        reward: ev!.args[5] as bigint,
      };
    },
    async recordFact(p) {
      const r = await send(vault, "recordFact", [
        p.imageId,
        p.deviceId,
        p.epoch,
        p.prevRoot,
        p.newRoot,
        leafArg(p.before),
        leafArg(p.credited),
      ]);
      return { gasUsed: r.gasUsed };
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
