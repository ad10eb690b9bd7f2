/**
 * The worker's ChainPort on the real contracts: sends PayoutVault.claim (claimStateful for a stateful applet's claim,
 * which carries stateIn/stateOut) from the operator's wallet, returns the transaction hash before waiting (so a crash
 * between the two leaves a hash to look up), and reads the outcome.
 */
import { parseImageId } from "../core/index.ts";
import type { TransactionReceipt } from "ethers";
import { ContractRevertedError, toContractsError, type MachinefiClient } from "../contracts/index.ts";
import { AlreadyClaimedError } from "./errors.ts";
import type { ChainPort, PaidResult } from "./ports.ts";

const bytes32 = parseImageId;

export function contractsChainPort(client: MachinefiClient, opts: { confirmTimeoutMs?: number } = {}): ChainPort {
  const vault = client.contracts.vault;
  const timeout = opts.confirmTimeoutMs ?? 60_000;
  let queue: Promise<unknown> = Promise.resolve();

  function paidFrom(r: TransactionReceipt): PaidResult {
    for (const log of r.logs) {
      if (log.address.toLowerCase() !== client.manifest.contracts.PayoutVault.toLowerCase()) continue;
      const parsed = vault.interface.parseLog(log);
      if (parsed?.name === "ClaimPaid")
        return { status: "paid", reward: parsed.args.getValue("reward") as bigint, gasUsed: r.gasUsed };
    }
    return { status: "paid", gasUsed: r.gasUsed };
  }

  return {
    isClaimed: (imageId, deviceId, epoch) => client.isClaimed({ imageId, deviceId, epoch }),
    stateOf: (imageId, deviceId) => client.stateOf({ imageId, deviceId }),
    async keyOf(deviceId) {
      const [tokenId, owner, , validFromMs, validUntilMs] = (await client.contracts.devices.getFunction("claimInfo")(
        deviceId,
      )) as [bigint, string, bigint, bigint, bigint];
      return /^0x0{40}$/i.test(owner) ? undefined : { tokenId, validFromMs, validUntilMs };
    },

    submit(c) {
      // One transaction at a time from this wallet: the nonce is never raced.
      const run = async () => {
        try {
          const tx =
            c.stateIn !== undefined
              ? await vault
                  .getFunction("claimStateful")
                  .send(bytes32(c.imageId), c.deviceId, c.epoch, c.output, c.stateIn, c.stateOut, c.proof)
              : await vault.getFunction("claim").send(bytes32(c.imageId), c.deviceId, c.epoch, c.output, c.proof);
          return { txHash: tx.hash };
        } catch (err) {
          const e = toContractsError(err, "claim");
          if (e instanceof ContractRevertedError && e.errorName === "PayoutVault__AlreadyClaimed")
            throw new AlreadyClaimedError(c, { cause: e });
          throw e;
        }
      };
      const p = queue.then(run, run);
      queue = p.catch(() => undefined);
      return p;
    },

    async waitPaid(txHash) {
      let receipt: TransactionReceipt | null = null;
      try {
        receipt = await pollReceipt(client, txHash, timeout);
      } catch (err) {
        return { status: "unknown", error: (err as Error).message };
      }
      if (!receipt) return { status: "unknown", error: `transaction ${txHash} not mined within ${timeout} ms` };
      if (receipt.status === 1) return paidFrom(receipt);
      return { status: "reverted", error: `claim transaction ${txHash} reverted`, gasUsed: receipt.gasUsed };
    },
  };
}

/**
 * Asks for the receipt directly until it exists or the time is up. ethers' waitForTransaction waits for the next
 * block event when the first lookup misses; on an automining chain (anvil) whose only transactions are ours, a
 * block mined between that lookup and the subscription is never announced and the next block comes only with our
 * next claim, which waits for this one: submissions stalled for the whole timeout (seen on the devnet under load).
 */
async function pollReceipt(
  client: MachinefiClient,
  txHash: string,
  timeoutMs: number,
): Promise<TransactionReceipt | null> {
  const until = Date.now() + timeoutMs;
  for (let delay = 50; ; delay = Math.min(delay * 2, 1000)) {
    const r = await client.provider.getTransactionReceipt(txHash);
    if (r) return r;
    if (Date.now() + delay > until) return null;
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}
