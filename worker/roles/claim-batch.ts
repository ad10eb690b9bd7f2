/**
 * The submitter's batches (issue 23): when several proved claims are ready, one PayoutVault.claimBatch transaction
 * pays them all (one nonce, one base cost: docs/contracts.md gives the gas per claim). Only stateless applets' claims
 * are batched (a stateful applet's go through claimStateful, in order, one by one), and only a batch the vault accepts
 * in a simulation is sent: an item it would refuse (PayoutVault__BatchItemFailed names it) is left to the one-by-one
 * path, which records that claim's own failure; items already paid are skipped by the vault itself.
 * Crash safety as for single claims: every claim of the batch is marked submitted with the transaction's hash before
 * waiting, and a pass first settles submitted claims from their receipt, each by its own ClaimPaid or ClaimSkipped
 * log (a batch's receipt holds several); what is not mined is left to the one-by-one path, which resends it.
 */
import { parseImageId } from "../../core/index.ts";
import type { Signer, TransactionReceipt } from "ethers";
import {
  ContractRevertedError,
  toContractsError,
  withAccessList,
  type MachinefiClient,
} from "../../contracts/index.ts";
import type { ClaimCalldata, ClaimRow, WorkerStore } from "../../store/index.ts";
import type { ChainPort } from "../ports.ts";
import type { WorkerEvent } from "../worker.ts";

const keyOf = (imageId: string, deviceId: bigint, epoch: bigint) =>
  `${imageId.replace(/^0x/, "").toLowerCase()}/${deviceId}/${epoch}`;

/** What a mined transaction did to each claim in it, by keyOf. */
export interface BatchOutcome {
  status: "mined" | "reverted" | "unknown";
  gasUsed?: bigint;
  paid: Map<string, bigint>;
  skipped: Set<string>;
}

export interface ClaimBatchPort {
  /** Simulate claimBatch: the index of the first item the vault would refuse, or -1 when it would pay (or skip) all. */
  firstRefused(cs: ClaimCalldata[]): Promise<number>;
  /** Send claimBatch; resolves with the hash once it is in the mempool. */
  send(cs: ClaimCalldata[]): Promise<{ txHash: string }>;
  /** The receipt, read per claim (unknown: not found yet). */
  outcome(txHash: string, waitMs: number): Promise<BatchOutcome>;
}

export function contractsClaimBatchPort(client: MachinefiClient): ClaimBatchPort {
  const vault = client.contracts.vault;
  const items = (cs: ClaimCalldata[]) =>
    cs.map((c) => ({
      imageId: parseImageId(c.imageId),
      deviceId: c.deviceId,
      epoch: c.epoch,
      output: c.output,
      proof: c.proof,
    }));
  function read(r: TransactionReceipt): BatchOutcome {
    const out: BatchOutcome = { status: "mined", gasUsed: r.gasUsed, paid: new Map(), skipped: new Set() };
    for (const log of r.logs) {
      if (log.address.toLowerCase() !== client.manifest.contracts.PayoutVault.toLowerCase()) continue;
      const p = vault.interface.parseLog(log);
      if (p?.name === "ClaimPaid")
        out.paid.set(keyOf(p.args[0] as string, p.args[1] as bigint, p.args[2] as bigint), p.args[5] as bigint);
      else if (p?.name === "ClaimSkipped")
        out.skipped.add(keyOf(p.args[0] as string, p.args[1] as bigint, p.args[2] as bigint));
    }
    return out;
  }
  return {
    async firstRefused(cs) {
      try {
        await vault.getFunction("claimBatch").staticCall(items(cs));
        return -1;
      } catch (err) {
        const e = toContractsError(err, "claimBatch");
        if (e instanceof ContractRevertedError && e.errorName === "PayoutVault__BatchItemFailed")
          return Number(e.args[0]);
        throw e;
      }
    },
    async send(cs) {
      // with the node's access list, as the client's own sends (a batch of claims touches the same registries and
      // token again and again: declared, each first touch is 100 gas cheaper)
      const req = await vault.getFunction("claimBatch").populateTransaction(items(cs));
      const tx = await (vault.runner as Signer).sendTransaction(
        await withAccessList(client.provider, req, client.address),
      );
      return { txHash: tx.hash };
    },
    async outcome(txHash, waitMs) {
      const until = Date.now() + waitMs;
      for (let delay = 50; ; delay = Math.min(delay * 2, 1000)) {
        const r = await client.provider.getTransactionReceipt(txHash);
        if (r)
          return r.status === 1
            ? read(r)
            : { status: "reverted", gasUsed: r.gasUsed, paid: new Map(), skipped: new Set() };
        if (Date.now() + delay > until) return { status: "unknown", paid: new Map(), skipped: new Set() };
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    },
  };
}

export interface BatchPassOptions {
  workerStore: WorkerStore;
  chain: Pick<ChainPort, "isClaimed">;
  batch: ClaimBatchPort;
  now?: () => number;
  onEvent?: (e: WorkerEvent) => void;
  /** Most claims per transaction (default 20; the vault's gas per claim is about 250k with a real verifier). */
  maxBatch?: number;
  /** How long to wait for a batch's receipt before leaving it to the next pass (default 60 s). */
  confirmMs?: number;
}

/**
 * One pass: settle submitted claims whose transaction is mined, then send the due proved claims in batches of two or
 * more. Returns how many claims went out in batches; the rest is left to EpochWorker.submitDue.
 */
export async function submitBatches(o: BatchPassOptions): Promise<number> {
  const now = o.now ?? Date.now;
  const emit = (e: WorkerEvent) => o.onEvent?.(e);
  const confirmMs = o.confirmMs ?? 60_000;

  const settle = async (claims: { row: ClaimRow; c: ClaimCalldata }[], txHash: string, waitMs: number) => {
    const r = await o.batch.outcome(txHash, waitMs);
    if (r.status !== "mined") return r.status; // reverted or unknown: EpochWorker.submitDue's settle decides
    const gasUsed = r.gasUsed === undefined ? undefined : r.gasUsed / BigInt(claims.length);
    for (const { row, c } of claims) {
      const k = keyOf(c.imageId, c.deviceId, c.epoch);
      const reward = r.paid.get(k);
      if (reward !== undefined) {
        await o.workerStore.markPaid(row.id, { reward, gasUsed }, now());
        emit({ type: "claim", claimId: row.id, state: "paid", txHash, reward });
      } else if (r.skipped.has(k)) {
        await o.workerStore.markPaid(row.id, { note: "already paid on chain (skipped in the batch)" }, now());
        emit({ type: "claim", claimId: row.id, state: "paid", detail: "already paid on chain" });
      }
    }
    return "mined";
  };

  // After a crash: submitted claims, grouped by transaction, settled from their receipt when it is there.
  const submitted = await o.workerStore.dueClaims("submitted", now(), 200);
  const byTx = new Map<string, { row: ClaimRow; c: ClaimCalldata }[]>();
  for (const row of submitted) {
    if (!row.tx_hash) continue;
    const list = byTx.get(row.tx_hash) ?? [];
    list.push({ row, c: await o.workerStore.calldataOf(row.id) });
    byTx.set(row.tx_hash, list);
  }
  for (const [txHash, claims] of byTx) await settle(claims, txHash, 0);

  const proved = await o.workerStore.dueClaims("proved", now(), 200);
  let ready: { row: ClaimRow; c: ClaimCalldata }[] = [];
  for (const row of proved) {
    const c = await o.workerStore.calldataOf(row.id);
    // a stateful applet's claim (calldata with stateIn) goes through claimStateful, in order: one by one
    if ((c as { stateIn?: bigint }).stateIn !== undefined) continue;
    if (await o.chain.isClaimed(row.image_id, c.deviceId, c.epoch)) {
      await o.workerStore.markPaid(row.id, { note: "already paid on chain" }, now());
      emit({ type: "claim", claimId: row.id, state: "paid", detail: "already paid on chain" });
      continue;
    }
    ready.push({ row, c });
  }
  let sent = 0;
  const max = Math.max(2, o.maxBatch ?? 20);
  while (ready.length >= 2) {
    let batch = ready.slice(0, max);
    ready = ready.slice(batch.length);
    // Drop what the vault would refuse (left to the one-by-one path, which records why) until the rest would pass.
    for (let i = await o.batch.firstRefused(batch.map((b) => b.c)); i >= 0 && batch.length >= 2;) {
      batch = batch.filter((_, j) => j !== i);
      i = batch.length >= 2 ? await o.batch.firstRefused(batch.map((b) => b.c)) : -1;
    }
    if (batch.length < 2) continue;
    const { txHash } = await o.batch.send(batch.map((b) => b.c));
    for (const { row } of batch) {
      await o.workerStore.markSubmitted(row.id, txHash, now());
      emit({ type: "claim", claimId: row.id, state: "submitted", txHash, detail: `claimBatch of ${batch.length}` });
    }
    sent += batch.length;
    await settle(batch, txHash, confirmMs);
  }
  return sent;
}
