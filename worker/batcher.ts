/**
 * The batcher (issue 26): claims of applets that AppletRegistry switched to our BatchVault are never proved singly
 * (the vault refuses single claims for those epochs). Each pass it
 * 1. queues such claims (the store defers them out of the single-claim path),
 * 2. resumes open batches: a proved batch is settled against the vault's root (newRoot: credited; prevRoot: send it;
 *    another root: stale, its claims go back to the queue), a batch whose proof was lost in a crash is requeued,
 * 3. forms one batch per applet at a time, oldest epoch first, of up to N devices once N are queued or the oldest has
 *    waited `deadlineMs`, proves it from the applet's earnings tree and submits it.
 * A device whose data came late is queued when its run makes the claim and goes into a later batch of that epoch; the
 * tree's leaf (last credited epoch) and the circuit make a second credit of a device-epoch impossible.
 *
 * Crash safety: every state change is one store transaction; a batch is sent only after its proof is stored, and its
 * outcome is read back from the vault's root, so a restart never submits a credited batch again (the vault would
 * refuse it as stale anyway). The earnings tree is rebuilt from the credited batches' leaves and must match the
 * vault's root: another batcher crediting the same applet is reported, not guessed at.
 */
import { unpackEpoch } from "../device-sdk/index.ts";
import {
  BatchSetupMemoryError,
  creditEpoch,
  creditOf,
  EarningsTree,
  encodeCredits,
  type EarningsLeaf,
} from "../circuits/index.ts";
import { codeHasVerifyingKey, isChainUnreachable } from "../contracts/index.ts";
import type {
  AppletSpec,
  BatchRow,
  BatchStore,
  ClaimRow,
  QueuedClaim,
  ReadingStore,
  WorkerStore,
} from "../store/index.ts";
import type { BatchChainPort } from "./batch-chain.ts";
import { keyWindowRefusal } from "./device-state.ts";
import { BatchVerifierMismatchError } from "./errors.ts";
import { segmentOf, type BatchProverPort } from "./batch-prover.ts";

export interface BatcherOptions {
  store: ReadingStore;
  workerStore: WorkerStore;
  batches: BatchStore;
  prover: BatchProverPort;
  chain: BatchChainPort;
  /** Longest wait (ms) of the oldest queued claim of an epoch before a batch smaller than N is proved. */
  deadlineMs: number;
  now?: () => number;
  /** Pause (ms) after a failed batch before an applet's next one. */
  retryMs?: number;
  /** Pause (ms) before an applet whose verifier on chain holds another key is checked again (default 30 s). */
  verifierRecheckMs?: number;
  onEvent?: (e: BatchEvent) => void;
}

export type BatchEvent =
  | { type: "batch"; batchId: number; state: BatchRow["state"]; detail?: string; txHash?: string; devices?: number }
  | { type: "batch-claim"; claimId: number; state: "queued" | "failed"; detail?: string }
  | { type: "batch-tree"; imageId: string; detail: string };

interface Credit {
  deviceId: string;
  output: string;
  cumulative: string;
  firstEpoch: string;
  lastEpoch: string;
  /** Absent in batches stored before late credits (their windows were empty, their lags 0). */
  window?: string;
  lag?: string;
}

/** A stored batch's credits (its `credits` JSON, in the proof's order): each device's leaf after it, its output and
 * its lag. */
function storedCredits(b: BatchRow): { leaf: EarningsLeaf; output: bigint; lag: bigint }[] {
  return (JSON.parse(b.credits!) as Credit[]).map((c) => ({
    leaf: {
      deviceId: BigInt(c.deviceId),
      cumulative: BigInt(c.cumulative),
      firstEpoch: BigInt(c.firstEpoch),
      lastEpoch: BigInt(c.lastEpoch),
      window: BigInt(c.window ?? "0"),
    },
    output: BigInt(c.output),
    lag: BigInt(c.lag ?? "0"),
  }));
}

export class Batcher {
  private readonly now: () => number;
  /** imageId → first batched epoch start (ms), for applets switched to our vault (a switch is never undone). */
  private readonly batchedFrom = new Map<string, bigint>();
  private readonly pauseUntil = new Map<string, number>();
  /** Trees rebuilt from the chain (another batcher credits the applet too), kept up to date with our own batches. */
  private readonly chainTrees = new Map<string, EarningsTree>();
  /** Applets whose verifier on chain holds this worker's circuit key (verifiers never change once set). */
  private readonly verifierMatches = new Set<string>();
  private unreachableSaidAt = -Infinity;
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private stopped = true;
  private refreshedAt = 0;

  constructor(private readonly o: BatcherOptions) {
    this.now = o.now ?? Date.now;
  }

  /** For EpochWorker's `batched` option: whether a claim is the batcher's (its applet-epoch is credited by batches). */
  readonly isBatched = (claim: Pick<ClaimRow, "image_id" | "epoch">): boolean => {
    const from = this.batchedFrom.get(claim.image_id);
    return from !== undefined && BigInt(claim.epoch) >> 32n >= from;
  };

  start(intervalMs = 500): void {
    this.stopped = false;
    const loop = async () => {
      if (this.stopped) return;
      this.ticking = this.tick().catch((err) => {
        if (this.quietOutage(err)) return;
        const down = isChainUnreachable(err);
        this.emit({
          type: "batch",
          batchId: -1,
          state: "failed",
          detail: `batcher pass failed${down ? " (the chain cannot be reached: said again in a minute if it still cannot)" : ""}: ${(err as Error).message}`,
        });
      });
      await this.ticking;
      if (!this.stopped) this.timer = setTimeout(loop, intervalMs);
    };
    void loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.ticking;
  }

  async tick(): Promise<void> {
    await this.refreshApplets(false);
    await this.queue();
    for (const b of await this.o.batches.openBatches()) await this.resume(b);
    await this.form();
  }

  /**
   * Learns which applets are switched to our vault. A pass asks again about the others every 5 s at most (a switch
   * takes effect from the epoch running then, whose claims come only after it ends).
   */
  async refreshApplets(force = true): Promise<void> {
    if (!force && this.now() - this.refreshedAt < 5_000) return;
    this.refreshedAt = this.now();
    for (const { spec } of await this.o.workerStore.listApplets()) {
      if (this.batchedFrom.has(spec.imageId)) continue;
      const { vault, fromMs } = await this.o.chain.batchVaultOf(spec.imageId);
      if (vault.toLowerCase() === this.o.chain.vault.toLowerCase()) {
        this.batchedFrom.set(spec.imageId, fromMs);
        // the batch circuit set up and its key warmed now, while the epoch runs, not in its first batch's proof
        void this.o.prover.prepare?.(spec);
      }
    }
  }

  private async queue(): Promise<void> {
    const mine = (await this.o.workerStore.dueClaims("pending", this.now(), 1000)).filter(this.isBatched);
    if (mine.length === 0) return;
    await this.o.batches.queueClaims(
      mine.map((c) => c.id),
      this.now(),
    );
    for (const c of mine) this.emit({ type: "batch-claim", claimId: c.id, state: "queued" });
  }

  /** The applet's earnings tree from its credited batches; it must be what the vault's root commits to. */
  private async treeOf(imageId: string): Promise<EarningsTree> {
    const tree = new EarningsTree(this.o.prover.depth);
    for (const b of await this.o.batches.creditedBatches(imageId)) for (const c of storedCredits(b)) tree.set(c.leaf);
    const root = await this.o.chain.rootOf(imageId);
    if (root === tree.root) return tree;
    // another batcher credited the applet too, or this store lost batches: the tree from the chain's calldata (the
    // one rebuilt before, with our own batches since, unless someone else credited the applet again)
    const cached = this.chainTrees.get(imageId);
    if (cached?.root === root) return cached.clone();
    if (this.o.chain.creditedLeaves) {
      const fromChain = new EarningsTree(this.o.prover.depth);
      for (const leaf of await this.o.chain.creditedLeaves(imageId)) fromChain.set(leaf);
      if (fromChain.root === root) {
        this.chainTrees.set(imageId, fromChain.clone());
        this.emit({
          type: "batch-tree",
          imageId,
          detail: "the vault's root is not this worker's credited batches' tree: rebuilt from the chain's batches",
        });
        return fromChain;
      }
    }
    throw new Error(
      `applet ${imageId}: the vault's root ${root} is neither the tree of this worker's credited batches (${tree.root}) nor one rebuilt from the chain`,
    );
  }

  private async resume(b: BatchRow): Promise<void> {
    if (b.state === "proving") {
      // a crash between the batch's creation and its stored proof: nothing was sent; its claims go back to the queue
      await this.fail(b, "interrupted before its proof was stored (restart)");
      return;
    }
    const root = await this.o.chain.rootOf(b.image_id);
    const prev = BigInt(b.prev_root!);
    const next = BigInt(b.new_root!);
    if (root === next && prev !== next) return this.credited(b, null, null);
    if (root !== prev) return this.fail(b, `stale: the vault's root moved to ${root} (another batch came first)`);
    try {
      // the credits go with the proof as calldata, in the proof's (slot) order, as they were stored
      const credits = encodeCredits(storedCredits(b).map((c) => creditOf(c.leaf, c.output, c.lag)));
      const r = await this.o.chain.submitBatch({
        imageId: b.image_id,
        n: b.n,
        epoch: BigInt(b.epoch),
        prevRoot: prev,
        newRoot: next,
        credits,
        proof: b.proof!,
      });
      await this.o.batches.markBatchSubmitted(b.id, r.txHash, this.now());
      this.emit({ type: "batch", batchId: b.id, state: "submitted", txHash: r.txHash });
      await this.credited(b, r.txHash, r.gasUsed);
    } catch (err) {
      // a proof the vault can never accept (made for another circuit or vault version, or credits it refuses):
      // failed, so its claims go back to the queue and are proved again
      const name = (err as { errorName?: string }).errorName;
      if (name === "BatchVault__InvalidProof" || name === "BatchVault__BadCredits")
        return this.fail(b, `the vault refuses its proof (${name}): proved again`);
      // the applet stopped paying a maker between the check before proving and the send: proved again, and the
      // check then refuses that device's claim
      if (name === "BatchVault__DeviceNotAccepted")
        return this.fail(b, `the vault refuses a credit (${name}): proved again without the device`);
      // a key the vault will not credit for its first epoch (not registered, or not valid for the whole epoch): the
      // batch is proved again without it, and its claim fails with the vault's reason
      if (name === "BatchVault__UnknownDevice" || name === "BatchVault__KeyNotValid") {
        const deviceId = (err as { args?: readonly unknown[] }).args?.[0];
        const mine = new Set(await this.o.batches.claimsOf(b.id));
        await this.fail(b, `the vault refuses a credit (${name}): proved again without device ${deviceId}`);
        for (const c of await this.o.batches.queuedClaims())
          if (mine.has(c.claimId) && c.deviceId === deviceId) {
            const why = `${name}: the vault credits a key only for epochs it was registered and valid for as a whole`;
            await this.o.batches.failQueuedClaim(c.claimId, why, this.now());
            this.emit({ type: "batch-claim", claimId: c.claimId, state: "failed", detail: why });
          }
        return;
      }
      // Left 'proved': the next pass reads the root again (a send that did land is then seen as credited).
      if (this.quietOutage(err)) return;
      this.emit({
        type: "batch",
        batchId: b.id,
        state: "proved",
        detail: `submission failed: ${(err as Error).message}`,
      });
    }
  }

  private async credited(b: BatchRow, txHash: string | null, gasUsed: bigint | null): Promise<void> {
    const chainTree = this.chainTrees.get(b.image_id);
    if (chainTree) for (const c of storedCredits(b)) chainTree.set(c.leaf);
    const applet = await this.o.workerStore.getApplet(b.image_id);
    await this.o.batches.markBatchCredited(b.id, {
      txHash,
      gasUsed,
      rewardPerUnit: applet?.rewardPerUnit ?? 0n,
      now: this.now(),
    });
    this.emit({ type: "batch", batchId: b.id, state: "credited", txHash: txHash ?? undefined, devices: b.devices });
  }

  private async fail(b: BatchRow, why: string): Promise<void> {
    await this.o.batches.failBatch(b.id, why, this.now());
    this.pauseUntil.set(b.image_id, this.now() + (this.o.retryMs ?? 2000));
    this.emit({ type: "batch", batchId: b.id, state: "failed", detail: why });
  }

  /**
   * One new batch per applet without an open one: of its oldest queued epoch that is full or past the deadline and
   * has a device ready. An epoch whose devices' chains are still being written does not hold the later ones back
   * (the earnings tree credits an epoch late, up to 64 epochs after a later one: tree.ts creditEpoch).
   */
  private async form(): Promise<void> {
    const open = new Set((await this.o.batches.openBatches()).map((b) => b.image_id));
    const queued = (await this.o.batches.queuedClaims()).filter((c) => c.batchId === null);
    const byApplet = new Map<string, QueuedClaim[]>();
    for (const c of queued) byApplet.set(c.imageId, [...(byApplet.get(c.imageId) ?? []), c]);
    for (const [imageId, claims] of byApplet) {
      if (open.has(imageId) || (this.pauseUntil.get(imageId) ?? 0) > this.now()) continue;
      const epochs = [...new Set(claims.map((c) => c.epoch))].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
      try {
        for (const epoch of epochs) {
          const ofEpoch = claims.filter((c) => c.epoch === epoch);
          const oldest = Math.min(...ofEpoch.map((c) => c.queuedAtMs));
          if (ofEpoch.length < this.o.prover.n && this.now() - oldest < this.o.deadlineMs) continue;
          if (await this.proveNew(imageId, epoch, ofEpoch)) break;
        }
      } catch (err) {
        // this applet only (e.g. its tree disagrees with the vault's root): the others go on; a verifier of another
        // setup is asked about again after longer (it changes only when this worker proves with other keys)
        const pause =
          err instanceof BatchVerifierMismatchError ? (this.o.verifierRecheckMs ?? 30_000) : (this.o.retryMs ?? 2000);
        this.pauseUntil.set(imageId, this.now() + pause);
        if (this.quietOutage(err)) continue;
        this.emit({
          type: "batch",
          batchId: -1,
          state: "failed",
          detail: `applet ${imageId}: ${(err as Error).message}`,
        });
      }
    }
  }

  /** Proves a batch of the epoch's ready claims; false when none was ready (nothing stored). */
  private async proveNew(imageId: string, epoch: bigint, claims: QueuedClaim[]): Promise<boolean> {
    const applet = await this.o.workerStore.getApplet(imageId);
    if (!applet) return false;
    const w = unpackEpoch(epoch);
    const tree = await this.treeOf(imageId);
    const devices: Parameters<BatchProverPort["prove"]>[0]["devices"] = [];
    const taken: QueuedClaim[] = [];
    for (const c of claims) {
      if (taken.length >= this.o.prover.n) break;
      const refuse = async (why: string) => {
        await this.o.batches.failQueuedClaim(c.claimId, why, this.now());
        this.emit({ type: "batch-claim", claimId: c.claimId, state: "failed", detail: why });
      };
      const device = await this.o.store.getDevice(c.deviceId);
      if (!device) {
        await refuse("the device vanished from the store");
        continue;
      }
      // refusals the batch prover would make for the whole batch, made here for the one device
      const leaf = tree.leafAt(c.deviceId);
      if (leaf && leaf.deviceId !== c.deviceId) {
        await refuse(`the device's earnings-tree slot holds device ${leaf.deviceId}: rotate its key`);
        continue;
      }
      const epochs = creditEpoch(leaf, epoch);
      if ("refused" in epochs) {
        await refuse(
          epochs.refused.startsWith("already credited")
            ? `${epochs.refused}, by another batch: its owner withdraws it from the vault`
            : `not creditable: ${epochs.refused}`,
        );
        continue;
      }
      // the vault credits a key's first epoch only inside its window, for a maker the applet pays: asked before proving
      const outside =
        epochs.firstEpoch === epoch ? await this.firstCreditRefusal(imageId, c.deviceId, epoch) : undefined;
      if (outside) {
        await refuse(outside);
        continue;
      }
      const seg = await segmentOf(this.o.store, device, w, this.o.prover.k);
      if ("refused" in seg) {
        // a chain still being written is waited for, but not for ever: the applet's later epochs wait behind it
        if (!seg.retry || this.now() - c.queuedAtMs > 10 * this.o.deadlineMs)
          await refuse(seg.retry ? `${seg.refused}: gave up after ${10 * this.o.deadlineMs} ms` : seg.refused);
        continue;
      }
      devices.push({ device, readings: seg.readings });
      taken.push(c);
    }
    if (taken.length === 0) return false;
    await this.checkVerifier(applet);
    const id = await this.o.batches.createBatch({
      imageId,
      epoch,
      n: this.o.prover.n,
      claimIds: taken.map((c) => c.claimId),
      now: this.now(),
    });
    this.emit({ type: "batch", batchId: id, state: "proving", devices: taken.length });
    const t0 = Date.now();
    let proved;
    try {
      proved = await this.o.prover.prove({ applet, epoch: w, devices, tree });
    } catch (err) {
      await this.fail((await this.o.batches.getBatch(id))!, `proof failed: ${(err as Error).message}`);
      // the circuit's setup needs more memory than this process has: retrying cannot help until the worker restarts
      // with more (a large N's compile and setup would otherwise start over every retryMs)
      if (err instanceof BatchSetupMemoryError) {
        this.pauseUntil.set(imageId, Number.POSITIVE_INFINITY);
        this.emit({
          type: "batch",
          batchId: id,
          state: "failed",
          detail: `applet ${imageId}: batching stops until the worker restarts with more memory (its claims stay queued): ${err.message}`,
        });
      }
      return true;
    }
    const credits: Credit[] = proved.proof.credits.map((c) => ({
      deviceId: c.deviceId.toString(),
      output: c.output.toString(),
      cumulative: c.leaf.cumulative.toString(),
      firstEpoch: c.leaf.firstEpoch.toString(),
      lastEpoch: c.leaf.lastEpoch.toString(),
      window: c.leaf.window.toString(),
      lag: c.lag.toString(),
    }));
    await this.o.batches.markBatchProved(id, {
      prevRoot: proved.proof.prevRoot,
      newRoot: proved.proof.newRoot,
      proof: proved.encoded,
      credits: JSON.stringify(credits),
      proveMs: Date.now() - t0,
      now: this.now(),
    });
    this.emit({ type: "batch", batchId: id, state: "proved", devices: taken.length });
    await this.resume((await this.o.batches.getBatch(id))!);
    return true;
  }

  /**
   * Whether to keep quiet about `err`: an RPC outage fails pass after pass the same way (each pass that asks the chain,
   * each applet): it is said once a minute at most.
   */
  private quietOutage(err: unknown): boolean {
    if (!isChainUnreachable(err)) return false;
    if (this.now() - this.unreachableSaidAt < 60_000) return true;
    this.unreachableSaidAt = this.now();
    return false;
  }

  /**
   * Throws BatchVerifierMismatchError when the vault's verifier for the applet's batches of N is not of the key this
   * worker proves with: every proof would then be spent on a submission the vault refuses (InvalidProof), over and
   * over. No verifier yet is no mismatch: a batch proved now waits, proved, and is sent once it is set.
   */
  private async checkVerifier(applet: AppletSpec): Promise<void> {
    const { chain, prover } = this.o;
    if (this.verifierMatches.has(applet.imageId) || !chain.verifierCode || !prover.verifyingKey) return;
    const code = await chain.verifierCode(applet.imageId, prover.n);
    if (code === undefined) return;
    if (!codeHasVerifyingKey(code, await prover.verifyingKey(applet)))
      throw new BatchVerifierMismatchError(applet.imageId, prover.n, {
        metaMessages: [
          "Its claims stay queued; nothing is proved or sent for the applet while this lasts.",
          "Verifiers never change once set: run the worker with the circuit build (build/batch-circuits/, the same " +
            "circom level: O1 or O2) whose key set it, or switch the applet to a new BatchVault. A verifier behind a " +
            "proxy or wrapper contract does not hold the key in its own code: set the generated verifier itself.",
        ],
      });
    this.verifierMatches.add(applet.imageId);
  }

  /** Why the vault would refuse `epoch` as the key's first credited epoch (BatchVault._checkFirstCredit), if it would. */
  private async firstCreditRefusal(imageId: string, deviceId: bigint, epoch: bigint): Promise<string | undefined> {
    if (!this.o.chain.keyFor) return undefined;
    const key = await this.o.chain.keyFor(imageId, deviceId);
    if (!key) return "BatchVault__UnknownDevice: no device token has this key";
    const outside = keyWindowRefusal({ validFromMs: key.fromMs, validUntilMs: key.untilMs }, unpackEpoch(epoch));
    if (outside)
      return `BatchVault__KeyNotValid: the key ${outside}: the vault credits a key only for epochs it was valid for as a whole`;
    if (!key.accepted) return "BatchVault__DeviceNotAccepted: the applet does not pay devices of this key's maker";
    return undefined;
  }

  private emit(e: BatchEvent): void {
    this.o.onEvent?.(e);
  }
}
