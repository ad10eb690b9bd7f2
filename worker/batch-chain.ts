/**
 * The batcher's chain port on the real contracts (issue 26): which applets AppletRegistry switched to our BatchVault
 * and from when, the vault's current root per applet, and BatchVault.submitBatch sent through the operator client's
 * write queue (one nonce sequence with its other transactions). The root, not a transaction hash, is what settles a
 * batch after a crash: the vault moved to its newRoot (credited), still holds its prevRoot (send it), or moved
 * elsewhere (stale: prove again).
 */
import { Contract } from "ethers";
import { parseImageId } from "../core/index.ts";
import { getArtifact, toContractsError, type MachinefiClient } from "../contracts/index.ts";
import { replayCredits, type EarningsLeaf } from "../circuits/index.ts";

export interface BatchChainPort {
  /** The vault that credits the applet's batches and the first epoch start it credits (ms); vault 0x0 when none. */
  batchVaultOf(imageId: string): Promise<{ vault: string; fromMs: bigint }>;
  rootOf(imageId: string): Promise<bigint>;
  /** Sends submitBatch and waits for its receipt; reverts come back as typed ContractsErrors. */
  submitBatch(b: {
    imageId: string;
    n: number;
    epoch: bigint;
    prevRoot: bigint;
    newRoot: bigint;
    /** The batch's credits (circuits' encodeCredits): calldata the proof binds. */
    credits: string;
    proof: string;
  }): Promise<{ txHash: string; gasUsed: bigint }>;
  /**
   * The applet's earnings leaves as the chain records them, in crediting order (each batch's credits, from its
   * calldata): the tree rebuilt without this worker's store, when another batcher credited the applet too or the
   * store was lost.
   */
  creditedLeaves?(imageId: string): Promise<EarningsLeaf[]>;
  /**
   * What the vault checks of a key credited for its first epoch (submitBatch: BatchVault__UnknownDevice, __KeyNotValid,
   * __DeviceNotAccepted): its validity window (DeviceRegistry.claimInfo; untilMs 0: open) and whether the applet pays
   * its maker; undefined when no token has the key. Read before proving, so such a claim fails before a proof is
   * spent on it and the batch is not sent to revert.
   */
  keyFor?(
    imageId: string,
    deviceId: bigint,
  ): Promise<{ fromMs: bigint; untilMs: bigint; accepted: boolean } | undefined>;
  /**
   * The deployed code of the vault's verifier for the applet's batches of `n` (BatchVault.batchVerifierOf); undefined
   * while none is set. The batcher checks it holds its circuit's key before spending a proof on it.
   */
  verifierCode?(imageId: string, n: number): Promise<string | undefined>;
  readonly vault: string;
}

export function contractsBatchChainPort(client: MachinefiClient, vaultAddress: string): BatchChainPort {
  const runner = client.contracts.vault.runner;
  const vault = new Contract(vaultAddress, getArtifact("BatchVault").abi as never, runner);
  const applets = new Contract(
    client.manifest.contracts.AppletRegistry,
    getArtifact("AppletRegistry").abi as never,
    client.provider,
  );
  return {
    vault: vaultAddress,
    async batchVaultOf(imageId) {
      try {
        const [v, fromMs] = (await applets.getFunction("batchVaultOf")(parseImageId(imageId))) as [string, bigint];
        return { vault: v, fromMs };
      } catch (e) {
        throw toContractsError(e, "AppletRegistry batchVaultOf");
      }
    },
    async rootOf(imageId) {
      try {
        return (await vault.getFunction("rootOf")(parseImageId(imageId))) as bigint;
      } catch (e) {
        throw toContractsError(e, "BatchVault rootOf");
      }
    },
    async keyFor(imageId, deviceId) {
      try {
        const [, owner, makerId, fromMs, untilMs] = (await client.contracts.devices.getFunction("claimInfo")(
          deviceId,
        )) as [bigint, string, bigint, bigint, bigint];
        if (BigInt(owner) === 0n) return undefined;
        const accepted = (await applets.getFunction("acceptsMaker")(parseImageId(imageId), makerId)) as boolean;
        return { fromMs, untilMs, accepted };
      } catch (e) {
        throw toContractsError(e, "DeviceRegistry claimInfo");
      }
    },
    async verifierCode(imageId, n) {
      try {
        const address = (await vault.getFunction("batchVerifierOf")(parseImageId(imageId), n)) as string;
        if (BigInt(address) === 0n) return undefined;
        const code = await client.provider.getCode(address);
        // a node behind the one that answered batchVerifierOf (load-balanced RPC) may not know the contract yet
        return code === "0x" ? undefined : code;
      } catch (e) {
        throw toContractsError(e, "BatchVault batchVerifierOf");
      }
    },
    async creditedLeaves(imageId) {
      // loaded here: contracts/batch.ts pulls poseidon-solidity in, which only batching needs
      const { creditedBatchesOf } = await import("../contracts/batch.ts");
      try {
        const batches = await creditedBatchesOf({
          provider: client.provider,
          vault,
          address: vaultAddress,
          imageId: parseImageId(imageId),
        });
        return replayCredits(batches);
      } catch (e) {
        throw toContractsError(e, "BatchVault BatchCredited");
      }
    },
    async submitBatch(b) {
      const r = await client.sendTx(vault, "submitBatch", [
        parseImageId(b.imageId),
        b.n,
        b.epoch,
        b.prevRoot,
        b.newRoot,
        b.credits,
        b.proof,
      ]);
      return { txHash: r.hash, gasUsed: r.gasUsed };
    },
  };
}
