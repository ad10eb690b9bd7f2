/**
 * The epoch worker: closes epochs, runs every applet over each device's readings of the closed epoch, stores the
 * run, proves each claim off the main thread and pays it on L1, tracking pending → proved → submitted → paid | failed.
 *
 * Crash safety: every state change is one SQLite transaction, runs are unique per (applet, device, epoch), and before
 * sending a claim the worker asks the vault whether its nullifier is spent; a resend after a crash that the chain
 * refuses as already claimed is recorded as paid. The nullifier is the backstop, not the only guard.
 */
import type { EpochWindow } from "../device-sdk/index.ts";
import { packEpoch, unpackEpoch } from "../device-sdk/index.ts";
import type { ClaimCalldata, ClaimRow, ClaimState, ReadingStore, StoredReading, WorkerStore } from "../store/index.ts";
import { isChainUnreachable } from "../contracts/index.ts";
import { backoffMs } from "./backoff.ts";
import { AlreadyClaimedError, AppletLoadError, ChainReadError, ProofRefusedError } from "./errors.ts";
import { alignToSchedule, closableEpochs } from "./epochs.ts";
import type { AppletSpec, ChainPort, ProvePort, RunPort } from "./ports.ts";
import { InProcessProveQueue, pendingAtAttempt, type ProveQueue, type RunJob, type RunQueue } from "./queue/index.ts";
import { decodeState } from "./runtime-port.ts";
import { DeviceTokens, type RunState } from "./device-state.ts";

export interface WorkerOptions {
  /** The readings and devices the worker runs applets on. */
  store: ReadingStore;
  /** Where the worker keeps its applets, runs and claims (openStore(…).worker on SQLite). */
  workerStore: WorkerStore;
  run: RunPort;
  prove: ProvePort;
  chain: ChainPort;
  epochMs: number;
  graceMs?: number;
  now?: () => number;
  maxAttempts?: number;
  proverConcurrency?: number;
  /** Longest tail of readings after an epoch the prover can take (largest circuit K minus the epoch's readings). */
  maxTrailing?: number;
  /**
   * How long after an epoch's end to wait for a device's chain to pass it. A device's run waits until it has stored
   * a reading at or after the epoch's end (ts never decreases along a chain, so no reading can then still arrive for
   * the epoch: the applet and the proof see the same readings). Past this, devices still short of it are skipped.
   */
  sealTimeoutMs?: number;
  /**
   * While an epoch waits for some devices' chains, how often (ms) every device is scanned again (at least ten times
   * the last scan's duration); the passes between look only at the devices it waits for. Default 5 s.
   */
  rescanMs?: number;
  onEvent?: (e: WorkerEvent) => void;
  /** Issue 26: claims this returns true for are proved and paid in batches (worker/batcher.ts), never singly. */
  batched?: (claim: ClaimRow) => boolean;
  /**
   * Issue 23: where prove jobs go. Absent, an in-process queue this worker itself drains (one process on SQLite or
   * Postgres); given (pg-boss, worker/queue/), due claims are only enqueued here and prover processes take them
   * (worker/roles/). Either way a claim is proved by `proveClaim`.
   */
  proveQueue?: ProveQueue;
  /**
   * Issue 23: where run jobs go. Absent, closing an epoch runs its devices in this process; given (the scheduler
   * role), it only enqueues a run job per due (applet, device, epoch) and runner processes call `runDevice`.
   */
  runQueue?: RunQueue;
  /**
   * Issue 18: how long a stateful applet's claim waits for its device's earlier epoch to be paid (its stateIn is
   * that claim's stateOut) before it fails with the reason. Default 30 minutes.
   */
  stateWaitMs?: number;
}

export type WorkerEvent =
  | {
      type: "run";
      imageId: string;
      deviceId: bigint;
      epoch: bigint;
      runId: number;
      fuelUsed: bigint;
      trap?: string;
      claims: number;
      /** Issue 18: why the run's claim was not kept (its key could not be paid for the epoch), never proved. */
      unclaimable?: string;
      /** Issue 18: the run's state was re-synced from the chain (or could not be): how. */
      stateNote?: string;
    }
  | {
      type: "claim";
      claimId: number;
      state: ClaimState;
      detail?: string;
      txHash?: string;
      reward?: bigint;
      proveMs?: number;
    }
  // issue 22: an applet whose module failed to load, reported once; the worker no longer runs it
  | { type: "quarantined"; imageId: string; name: string; reason: string }
  // issue 18: an epoch waits because a chain read its runs need failed (ChainReadError); reported once per
  // applet-epoch and reason, not every pass; the epoch runs once the chain answers
  | { type: "chain-wait"; imageId: string; epoch: bigint; deviceId: bigint; reason: string };

/** How long submission passes wait after finding the chain unreachable before they try it again. */
export const CHAIN_DOWN_PAUSE_MS = 5_000;

/** ethers' codes (anywhere in the cause chain) that say the sender, not the claim, cannot go on now. */
const SENDER_WAITS: Record<string, string> = {
  INSUFFICIENT_FUNDS: "the operator's wallet cannot pay for gas: fund it",
  NONCE_EXPIRED: "a nonce race with another sender of the operator's key",
  REPLACEMENT_UNDERPRICED: "a nonce race with another sender of the operator's key",
};

/**
 * Why a submission failed for a reason that is not the claim's, if it did: the chain (its RPC endpoint, or the
 * database) could not be reached, or the operator's wallet cannot send. Such a failure counts no attempt. A chain read
 * wrapped as ChainReadError counts by its cause (a revert under it is an answer).
 */
export function waitReason(err: unknown): string | undefined {
  const under = err instanceof ChainReadError ? err.cause : err;
  if (isChainUnreachable(under)) return "the chain (or the database) cannot be reached";
  for (let e = under, depth = 0; e && depth < 10; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && SENDER_WAITS[code]) return SENDER_WAITS[code];
  }
  return undefined;
}

export class EpochWorker {
  readonly workerStore: WorkerStore;
  private readonly opts: Required<
    Omit<WorkerOptions, "onEvent" | "batched" | "proveQueue" | "runQueue" | "stateWaitMs" | "rescanMs">
  > &
    Pick<WorkerOptions, "onEvent" | "batched" | "runQueue" | "stateWaitMs" | "rescanMs">;
  // ── issue 23: the prove queue ──
  readonly proveQueue: ProveQueue;
  private readonly localQueue: InProcessProveQueue | undefined;
  // ── end issue 23 ──
  /** Issue 18: device tokens and their keys on chain; a stateful applet's state follows the token. */
  private readonly tokens: DeviceTokens;
  private inflight = new Set<number>();
  /** Issue 18: the chain read an applet-epoch waits for (by `imageId/epoch`), reported once per reason. */
  private readonly chainWaits = new Map<string, string>();
  /** The devices an epoch waits for (by `imageId/epoch`) and when every device is scanned again (closeEpoch). */
  private readonly waitingOn = new Map<string, { devices: bigint[]; behind: bigint[]; rescanAt: number }>();
  /** Set while submissions wait (waitReason): passes wait until retryAt; `saidAt`: when the operator was told. */
  private chainDown: { retryAt: number; why: string; saidAt: number } | undefined;
  /** Issue 18: since when a stateful claim's stateIn could be reached by no earlier payment (its grace; by claim id). */
  private readonly unreachableSince = new Map<number, number>();
  private submitting: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private stopped = false;

  constructor(opts: WorkerOptions) {
    this.opts = {
      graceMs: 1000,
      now: Date.now,
      maxAttempts: 5,
      proverConcurrency: 1,
      maxTrailing: 200,
      sealTimeoutMs: Math.max(60_000, 5 * opts.epochMs),
      ...opts,
    };
    this.workerStore = opts.workerStore;
    this.tokens = new DeviceTokens({
      chain: opts.chain,
      workerStore: opts.workerStore,
      store: opts.store,
      run: opts.run,
    });
    // ── issue 23: without a shared queue this worker drains its own, in process ──
    // issue 23: a job whose claim moved on while it waited (proved by another attempt, failed, paid) is skipped
    this.localQueue = opts.proveQueue
      ? undefined
      : new InProcessProveQueue({ stillDue: pendingAtAttempt(opts.workerStore) });
    this.proveQueue = opts.proveQueue ?? this.localQueue!;
    void this.localQueue?.work((claim) => this.proveClaim(claim), this.opts.proverConcurrency);
    // ── end issue 23 ──
  }

  /** Register an applet with the worker; epochs on its schedule are closed from `fromMs` (default: now) on. */
  async addApplet(spec: AppletSpec, fromMs?: number): Promise<void> {
    const start = fromMs ?? this.opts.now();
    await this.workerStore.upsertApplet(
      spec,
      alignToSchedule(start, spec.schedule?.lengthMs ?? this.opts.epochMs, spec.schedule?.genesisMs),
      this.opts.now(),
    );
  }

  start(intervalMs = 200): void {
    this.stopped = false;
    void this.localQueue?.work((claim) => this.proveClaim(claim), this.opts.proverConcurrency); // issue 23
    const loop = async () => {
      if (this.stopped) return;
      this.ticking = this.tick().catch((err) =>
        this.emit({
          type: "claim",
          claimId: -1,
          state: "failed",
          detail: `worker tick failed: ${(err as Error).message}`,
        }),
      );
      await this.ticking;
      if (!this.stopped) this.timer = setTimeout(loop, intervalMs);
    };
    void loop();
  }

  /** Stop taking new work and wait for the work under way. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.ticking;
    await this.localQueue?.stop(); // issue 23: queued proofs stay pending in the store
    await this.idle();
  }

  /** Resolves when no proof or submission is under way. */
  async idle(): Promise<void> {
    while (this.inflight.size > 0 || this.submitting || (this.localQueue?.busy ?? 0) > 0) {
      await (this.submitting ?? new Promise((r) => setTimeout(r, 20)));
    }
  }

  /** One pass: close due epochs, start proofs for due claims, start the submitter. Does not wait for proofs. */
  async tick(): Promise<void> {
    await this.closeEpochs();
    await this.startProofs();
    if (!this.submitting) {
      // Nobody may be awaiting this pass (idle() only does at stop): a failure must not become an unhandled rejection.
      this.submitting = this.submitDue()
        .catch((err) =>
          this.emit({
            type: "claim",
            claimId: -1,
            state: "failed",
            detail: `claim submission pass failed (retried next pass): ${(err as Error).message}`,
          }),
        )
        .finally(() => (this.submitting = undefined));
    }
  }

  // ── epochs and runs ────────────────────────────────────────────────────────────────────────────────────────

  async closeEpochs(): Promise<void> {
    this.tokens.newPass(); // issue 18: a chain read that failed in the last pass is tried again
    for (const applet of await this.workerStore.listApplets()) {
      if (applet.quarantined !== null) continue; // issue 22: one bad applet never stalls the others
      // issue 22: a newer version replaced it from `retiredAtMs` on: it still closes the epochs that start before
      const retiredFrom = applet.retiredAtMs ?? Infinity;
      if (applet.cursorMs >= retiredFrom) continue;
      const s = applet.spec.schedule;
      // devices an earlier, incomplete epoch of the applet waits for or may still get readings for: a device's
      // epochs run in order (a stateful applet's state follows them), so their later epochs wait
      const held = new Set<bigint>();
      let inOrder = true;
      for (const w of closableEpochs(
        applet.cursorMs,
        this.opts.now(),
        s?.lengthMs ?? this.opts.epochMs,
        this.opts.graceMs,
        100,
        s?.genesisMs,
      )) {
        const end = Number(w.startMs + w.lengthMs);
        if (Number(w.startMs) >= retiredFrom) break;
        const timedOut = this.opts.now() >= end + this.opts.sealTimeoutMs;
        const r = await this.closeEpoch(applet.spec, w, timedOut, held).catch(async (e: unknown) => {
          await this.quarantine(e);
          return "stopped" as const;
        });
        if (r === "stopped") break;
        // the cursor passes complete epochs only, in order; later epochs are closed meanwhile for every device that
        // no earlier epoch still waits for (`held`): one device whose chain stopped mid-epoch (offline, or a key
        // rotated away) no longer holds every other device's later epochs until the seal timeout
        if (r === "complete" && inOrder) await this.workerStore.setCursor(applet.spec.imageId, end);
        else inOrder = false;
      }
    }
  }

  /** Issue 22: quarantine the applet a load error names (once, with an event) and stop its epochs; else rethrow. */
  async quarantine(e: unknown): Promise<false> {
    if (!(e instanceof AppletLoadError)) throw e;
    const spec = await this.workerStore.getApplet(e.imageId);
    if (await this.workerStore.quarantineApplet(e.imageId, e.shortMessage, this.opts.now()))
      this.emit({ type: "quarantined", imageId: e.imageId, name: spec?.name ?? "", reason: e.shortMessage });
    return false;
  }

  /**
   * Runs every sealed device of the epoch; false while some device's chain has not yet passed the epoch's end. With a
   * run queue (issue 23: the scheduler role) it only enqueues a run job per due device and is complete once every
   * device's run is stored (runner processes store them).
   * While the epoch waits, a pass scans every device only every `rescanMs` (or ten times as long as the last scan
   * took); the passes between look only at the devices it waits for (20,000 devices took ~730 ms a scan on SQLite
   * here: every 200 ms, that was all the worker did). Whether the epoch is complete is always decided by a scan of
   * every device (one that had no reading may have one now).
   */
  private async closeEpoch(
    applet: AppletSpec,
    w: EpochWindow,
    timedOut: boolean,
    held: Set<bigint>,
  ): Promise<"complete" | "waiting" | "stopped"> {
    const epoch = packEpoch(w);
    const key = `${applet.imageId}/${epoch}`;
    const last = this.waitingOn.get(key);
    if (last && Date.now() < last.rescanAt) {
      const still = await this.scanDevices(applet, w, timedOut, last.devices, held);
      if (still === undefined) return "stopped";
      if (still.waiting.length > 0) {
        last.devices = still.waiting;
        for (const d of [...still.waiting, ...last.behind]) held.add(d);
        return "waiting";
      }
      // all it waited for are done: a scan of every device decides
    }
    const t0 = Date.now();
    const scan = await this.scanDevices(applet, w, timedOut, await this.allDevices(), held);
    if (scan === undefined) return "stopped";
    if (scan.waiting.length > 0) {
      // a scan that took long (many devices) comes back less often: at most a tenth of the time goes to it
      const after = Math.max(this.opts.rescanMs ?? 5_000, 10 * (Date.now() - t0));
      this.waitingOn.set(key, { devices: scan.waiting, behind: scan.behind, rescanAt: Date.now() + after });
      for (const d of [...scan.waiting, ...scan.behind]) held.add(d);
      return "waiting";
    }
    this.waitingOn.delete(key);
    this.chainWaits.delete(key);
    return "complete";
  }

  /**
   * Runs (or enqueues a run job for) each of `devices` that is due and not `held`. Returns the devices the epoch still
   * waits for (chain not past its end, a run job not yet stored, or held by an earlier epoch) and those whose chain has
   * not reached the epoch yet (`behind`: readings may still come); undefined when a chain read stopped the pass.
   */
  private async scanDevices(
    applet: AppletSpec,
    w: EpochWindow,
    timedOut: boolean,
    devices: readonly bigint[],
    held: ReadonlySet<bigint>,
  ): Promise<{ waiting: bigint[]; behind: bigint[] } | undefined> {
    const epoch = packEpoch(w);
    const waiting: bigint[] = [];
    const behind: bigint[] = [];
    const jobs: RunJob[] = [];
    for (const device of devices) {
      if (held.has(device)) {
        waiting.push(device);
        continue;
      }
      if (this.opts.runQueue) {
        if (await this.workerStore.hasRun(applet.imageId, device, epoch)) continue;
        const seal = await this.sealOf(device, w);
        if (seal === "open" && !timedOut) waiting.push(device);
        if (seal === "behind") behind.push(device);
        if (seal !== "sealed") continue;
        jobs.push({ imageId: applet.imageId, deviceId: device.toString(), epoch: epoch.toString() });
        waiting.push(device); // until a runner has stored the run
        continue;
      }
      // runDevice asks hasRun itself first ("done"): not asked twice
      const r = await this.runDevice(applet, w, device).catch((e: unknown) => {
        if (!(e instanceof ChainReadError)) throw e;
        // issue 18: the chain cannot say: the next pass runs it; the operator hears of it once, not every pass
        const key = `${applet.imageId}/${epoch}`;
        const kind = e.shortMessage.replace(/\([^)]*\)/g, "(…)"); // the read, not its arguments (device ids vary)
        if (this.chainWaits.get(key) !== kind) {
          this.chainWaits.set(key, kind);
          this.emit({ type: "chain-wait", imageId: applet.imageId, epoch, deviceId: device, reason: e.shortMessage });
        }
        return undefined;
      });
      if (!r) return undefined;
      if (r.kind === "open" && !timedOut) waiting.push(device);
      if (r.kind === "behind") behind.push(device);
    }
    if (jobs.length) await this.opts.runQueue!.enqueue(jobs);
    return { waiting, behind };
  }

  /**
   * Whether the device's chain has passed the epoch's end ("sealed": no reading can still arrive for the epoch, since
   * ts never decreases along a chain), has not ("open"), holds no reading in the epoch and never will ("empty": its
   * chain is past the epoch), or has not reached the epoch yet ("behind": no reading at or after its start).
   * The last reading is read before the epoch's readings: in the other order, readings stored between the two reads
   * were missed by the run yet are in the proof's segment, and no proof of the run's output exists.
   */
  private async sealOf(device: bigint, w: EpochWindow): Promise<"sealed" | "open" | "empty" | "behind"> {
    const last = await this.opts.store.lastReading(device);
    if (!last || last.ts < w.startMs) return "behind";
    if (last.ts >= w.startMs + w.lengthMs) {
      const one = await this.opts.store.listReadings({
        deviceId: device,
        fromTs: w.startMs,
        toTs: w.startMs + w.lengthMs - 1n,
        limit: 1,
      });
      return one.length ? "sealed" : "empty";
    }
    return "open";
  }

  /**
   * Run the applet over the device's readings of the epoch and store the run, its claims and the new state in one
   * transaction (issue 23: a runner's job; the single process calls it from closeEpoch). "open": the device's chain
   * has not passed the epoch's end, nothing is run; "empty" / "behind": no reading in the epoch, the chain past it /
   * not yet at it (an offline device's readings may still come). "done": the run was already stored (found first; or by another
   * runner racing on the job: the store's unique key decides).
   */
  async runDevice(
    applet: AppletSpec,
    w: EpochWindow,
    device: bigint,
  ): Promise<{ kind: "ran"; runId: number } | { kind: "open" | "empty" | "behind" | "done" }> {
    const epoch = packEpoch(w);
    const end = w.startMs + w.lengthMs;
    // A job delivered again after its runner stored the run (killed before completing the job): done, without
    // running the applet or asking the chain again (an RPC down would fail every delivery of a stored run).
    if (await this.workerStore.hasRun(applet.imageId, device, epoch)) return { kind: "done" };
    // The seal before the readings (sealOf says why).
    const last = await this.opts.store.lastReading(device);
    if (!last || last.ts < w.startMs) return { kind: "behind" };
    const readings = await this.opts.store.listReadings({
      deviceId: device,
      fromTs: w.startMs,
      toTs: end - 1n,
      limit: 100_000,
    });
    if (readings.length === 0) return { kind: "empty" };
    if (last.ts < end) return { kind: "open" };
    // issue 18: a stateful applet's state follows the device token (kept under it, re-synced from the chain:
    // device-state.ts); a chain that cannot say throws ChainReadError before anything is stored
    const stateful = await this.tokens.stateful(applet.imageId, device);
    const from: RunState = stateful
      ? await this.tokens.stateFor({ applet, deviceId: device, epoch })
      : { owner: device, state: await this.workerStore.getState(applet.imageId, device) };
    const outcome = await this.opts.run({ applet, epoch: w, deviceId: device, readings, state: from.state });
    // An applet may only claim for the device it ran on: anything else is dropped here, never proved. A zero output
    // is kept (issue 22): it is proven on chain as a fact (PayoutVault.factOf) that pays nothing (docs/market.md).
    let claims = outcome.trap ? [] : outcome.claims.filter((c) => c.deviceId === device);
    // A key that was not the token's key for the whole epoch (the epoch of a rotation) is never paid for it: the
    // claim is not kept (nor proved), and the state does not advance past what the chain can hold.
    // A stateless applet's claim is kept when the chain cannot say (it may then fail KeyNotValid, as before issue 18).
    const unclaimable = claims.length ? await this.tokens.notClaimable(device, w, !stateful) : undefined;
    if (unclaimable) claims = [];
    let runId: number;
    try {
      runId = await this.workerStore.recordRun({
        applet,
        deviceId: device,
        epoch,
        readings,
        stateBefore: from.state,
        outcome,
        claims,
        now: this.opts.now(),
        stateOwner: from.owner,
        advanceState: !unclaimable,
        ...(unclaimable || from.note ? { note: [unclaimable, from.note].filter(Boolean).join("; ") } : {}),
      });
    } catch (err) {
      // issue 23: two runners raced on one job (a visibility timeout passed): the first stored it, atomically
      if (await this.workerStore.hasRun(applet.imageId, device, epoch)) return { kind: "done" };
      throw err;
    }
    this.emit({
      type: "run",
      imageId: applet.imageId,
      deviceId: device,
      epoch,
      runId,
      fuelUsed: outcome.fuelUsed,
      trap: outcome.trap?.kind,
      claims: claims.length,
      ...(unclaimable ? { unclaimable } : {}),
      ...(from.note ? { stateNote: from.note } : {}),
    });
    return { kind: "ran", runId };
  }

  private async allDevices(): Promise<bigint[]> {
    const out: bigint[] = [];
    let after: bigint | undefined;
    for (;;) {
      const page = await this.opts.store.listDevices({ after, limit: 500 });
      out.push(...page.map((d) => d.deviceId));
      if (page.length < 500) return out;
      after = page[page.length - 1]!.deviceId;
    }
  }

  // ── proving ────────────────────────────────────────────────────────────────────────────────────────────────

  /** Issue 23: a prove job for each due pending claim (the queue drops the ones already queued at that attempt). */
  async startProofs(): Promise<void> {
    const due = await this.workerStore.dueClaims("pending", this.opts.now(), 100);
    // issue 26: batched claims are the batcher's (it defers them out of this query)
    await this.proveQueue.enqueue(due.filter((claim) => !this.opts.batched?.(claim)));
  }

  /** Issue 23: prove one claim (a prove job's handler, in this process or in a prover process); never throws. */
  async proveClaim(claim: ClaimRow): Promise<void> {
    if (this.inflight.has(claim.id)) return;
    this.inflight.add(claim.id);
    // A failed database call while a proof starts (SQLITE_BUSY, a closed store) must not become an unhandled
    // rejection that kills the worker: it is reported and the claim retried (counted) like a failed proof.
    await this.proveOne(claim)
      .catch(async (err) => {
        try {
          await this.retryOrFail(claim, err as Error, true);
        } catch (e) {
          this.emit({
            type: "claim",
            claimId: claim.id,
            state: "pending",
            detail: `could not record the failure (retried next pass): ${(e as Error).message}`,
          });
        }
      })
      .finally(() => this.inflight.delete(claim.id));
  }

  private async proveOne(claim: ClaimRow): Promise<void> {
    const applet = await this.workerStore.getApplet(claim.image_id);
    const deviceId = BigInt(claim.device_id);
    const device = await this.opts.store.getDevice(deviceId);
    if (!applet || !device) return this.fail(claim, `applet or device vanished from the store`);
    const w = unpackEpoch(BigInt(claim.epoch));
    const end = w.startMs + w.lengthMs;
    const run = await this.workerStore.getRun(claim.run_id);
    if (!run) return this.fail(claim, `run ${claim.run_id} of this claim is gone from the store`);
    // The run's exact readings (its seq range), not the epoch read again: what the applet saw is what is proved.
    const inside = await this.opts.store.listReadings({
      deviceId,
      fromSeq: BigInt(run.from_seq),
      toSeq: BigInt(run.to_seq),
      limit: 100_000,
    });
    const first = inside[0];
    const last = inside[inside.length - 1];
    if (!first || !last || inside.length !== Number(run.reading_count))
      return this.fail(claim, "the run's readings are gone from the store");
    const before = first.seq > 1n ? await this.opts.store.getReading(deviceId, first.seq - 1n) : undefined;
    const tail = await this.opts.store.listReadings({ deviceId, fromSeq: last.seq + 1n, limit: this.opts.maxTrailing });
    const late = tail[0];
    if (late && late.ts < end)
      // The proof's segment is every reading of the epoch (the circuit shows nothing was left out), so a reading of
      // the epoch stored after the run leaves the run's output without a proof: refused now with the reason, not as a
      // failed witness. runDevice reads the seal first so that this cannot happen; runs stored before it could.
      return this.fail(
        claim,
        `not provable: reading seq ${late.seq} (ts ${late.ts}) of the epoch was stored after the run, which saw seq ${first.seq}..${last.seq}: the proof covers every reading of the epoch, so no proof of the run's output exists`,
      );
    const signedAt = tail.findIndex((r) => r.signature !== null && r.ts >= end);
    if (signedAt < 0) {
      // The proof needs a signed reading within maxTrailing readings after the epoch. A full tail without one can never
      // be proved (an offline backlog uploaded as one batch signed only at its end): fail it now with the reason, so it
      // does not come back every tick. A shorter tail is a chain still being written: retry, counted and bounded.
      if (tail.length >= this.opts.maxTrailing)
        return this.fail(
          claim,
          `not provable: no signed reading within ${this.opts.maxTrailing} readings after the epoch (the device must sign at least every ${this.opts.maxTrailing} readings)`,
        );
      return this.retryOrFail(claim, new Error("waiting for a signed reading after the epoch"), true);
    }
    const after: StoredReading[] = tail.slice(0, signedAt + 1);
    // issue 18: a stateful applet's proof starts from the device's state as this run found it
    const state = decodeState(run.state_before ?? undefined)?.[deviceId.toString()];
    const t0 = Date.now();
    try {
      const proved = await this.opts.prove({
        applet,
        device,
        epoch: w,
        output: BigInt(claim.output),
        before,
        inside,
        after,
        journalDigest: run.journal_digest,
        ...(state ? { state } : {}),
      });
      const proveMs = Date.now() - t0;
      await this.workerStore.markProved(
        claim.id,
        proved.receipt,
        JSON.stringify(proved.calldata, (_k, v) => (typeof v === "bigint" ? v.toString() : v)),
        proveMs,
        this.opts.now(),
      );
      this.emit({ type: "claim", claimId: claim.id, state: "proved", proveMs });
    } catch (err) {
      await this.retryOrFail(claim, err as Error, !(err instanceof ProofRefusedError));
    }
  }

  // ── submitting ─────────────────────────────────────────────────────────────────────────────────────────────

  /**
   * One submission pass (issue 23: the submitter role calls it on its own). What is not the claim's fault (the chain
   * or the database cannot be reached, the operator's wallet cannot pay for gas, a nonce race: `waitReason`) fails no
   * claim and counts no attempt: the claim waits CHAIN_DOWN_PAUSE_MS, the pass stops (the next claims would meet the
   * same), and the operator is told once, again only when the reason changes or every 10 minutes while it lasts.
   */
  async submitDue(): Promise<void> {
    if (this.waitingForChain()) return;
    const attempt = async (claim: ClaimRow, f: () => Promise<void>): Promise<boolean> => {
      try {
        await f();
        return true;
      } catch (err) {
        const why = waitReason(err);
        if (!why) throw err;
        await this.holdForChain(claim, why, err as Error);
        return false;
      }
    };
    // Claims left 'submitted' by a crash first: find out what happened to their transaction.
    for (const claim of await this.workerStore.dueClaims("submitted", this.opts.now(), 50))
      if (!(await attempt(claim, () => this.settle(claim)))) return;
    for (const claim of await this.workerStore.dueClaims("proved", this.opts.now(), 50)) {
      if (this.stopped) return;
      if (!(await attempt(claim, () => this.submitOne(claim)))) return;
    }
    this.chainDown = undefined;
  }

  /** Whether submission passes wait for the chain now (the submitter role skips its claimBatch pass then too). */
  waitingForChain(): boolean {
    return !!this.chainDown && this.opts.now() < this.chainDown.retryAt;
  }

  /** The claim waits (no attempt counted) for what `why` names; said once, then on a new reason or every 10 min. */
  private async holdForChain(claim: ClaimRow, why: string, err: Error): Promise<void> {
    const now = this.opts.now();
    const cause = err.message.split("\n")[0];
    const last = this.chainDown;
    const say = !last || last.why !== why || now - last.saidAt >= 600_000;
    this.chainDown = { retryAt: now + CHAIN_DOWN_PAUSE_MS, why, saidAt: say ? now : last!.saidAt };
    // the claim itself waits too, so that one claim a wrong diagnosis holds cannot hold the others for ever
    await this.workerStore
      .defer(claim.id, now + CHAIN_DOWN_PAUSE_MS, `waiting: ${why}: ${cause}`)
      .catch(() => undefined); // the database may be what cannot be reached
    if (say)
      this.emit({
        type: "claim",
        claimId: claim.id,
        state: claim.state,
        detail: `${why} (${cause}): submissions wait, no claim is failed for it; trying again every ${CHAIN_DOWN_PAUSE_MS / 1000} s`,
      });
  }

  private async submitOne(claim: ClaimRow): Promise<void> {
    const calldata = await this.workerStore.calldataOf(claim.id);
    try {
      if (await this.opts.chain.isClaimed(claim.image_id, calldata.deviceId, calldata.epoch)) {
        await this.workerStore.markPaid(claim.id, { note: "already paid on chain" }, this.opts.now());
        this.emit({ type: "claim", claimId: claim.id, state: "paid", detail: "already paid on chain" });
        return;
      }
      if (await this.waitsForState(claim, calldata)) return;
      const { txHash } = await this.opts.chain.submit(calldata);
      await this.workerStore.markSubmitted(claim.id, txHash, this.opts.now());
      this.emit({ type: "claim", claimId: claim.id, state: "submitted", txHash });
      await this.settle({ ...claim, tx_hash: txHash, state: "submitted" });
    } catch (err) {
      if (err instanceof AlreadyClaimedError) {
        // The vault refused because the nullifier is spent: this claim was paid before (e.g. by a run before a crash).
        await this.workerStore.markPaid(claim.id, { note: "nullifier already spent" }, this.opts.now());
        this.emit({ type: "claim", claimId: claim.id, state: "paid", detail: "nullifier already spent" });
        return;
      }
      // not the claim's fault (the chain did not answer, no gas money): nothing was decided about it (submitDue)
      if (waitReason(err)) throw err;
      await this.retryOrFail(claim, err as Error, true, "proved");
    }
  }

  /**
   * Issue 18: a stateful applet's claim starts from the state its device's previous claim left, so the vault pays a
   * device's epochs in order only (PayoutVault.claimStateful). Proofs are made in any order; a claim is sent only
   * when its stateIn is the device's state on chain. Until then it waits (deferred, attempts not counted) for the
   * earlier epoch's payment, which this same sequential pass sends first; it fails with the reason when the chain has
   * moved past its epoch or it waited longer than stateWaitMs (an earlier claim failed: see docs/contracts.md).
   */
  private async waitsForState(claim: ClaimRow, calldata: ClaimCalldata): Promise<boolean> {
    if (calldata.stateIn === undefined || !this.opts.chain.stateOf) return false;
    const stateOf = this.opts.chain.stateOf;
    // bounded: a node that never answers must not hold the submission pass (a ChainReadError waits for the chain)
    const onChain = await this.tokens.read(`PayoutVault.stateOf(${claim.image_id.slice(0, 10)}…)`, () =>
      stateOf(claim.image_id, calldata.deviceId),
    );
    const now = this.opts.now();
    // the device token's earlier epochs still to be paid, under any of its keys (a rotated device)
    const epoch = BigInt(claim.epoch);
    const token = BigInt(claim.token_id ?? claim.device_id); // the run's state owner: the device token
    const earlier = (await this.workerStore.tokenUnsettledEpochs(claim.image_id, token)).some((e) => e < epoch);
    if (onChain.state === calldata.stateIn) {
      this.unreachableSince.delete(claim.id);
      // The same state can follow several epochs (an epoch that leaves the state unchanged): paying this claim while
      // an earlier epoch of the device is still to be paid would make that one unpayable (the vault's epoch order).
      if (!earlier) return false;
      await this.workerStore.defer(
        claim.id,
        now + 1000,
        "waiting for the device's earlier epoch to be paid (state order)",
      );
      return true;
    }
    // Nothing earlier left to pay: no payment can move the chain to this stateIn any more (issue 18: an earlier claim
    // failed for good, or the run did not start from the chain's state): fail after a short grace (a node that
    // answers from a block before the earlier payment), not stateWaitMs; the device's next run re-syncs.
    const waitMs = this.opts.stateWaitMs ?? 1_800_000;
    if (earlier) this.unreachableSince.delete(claim.id);
    else if (!this.unreachableSince.has(claim.id)) this.unreachableSince.set(claim.id, now);
    if (
      onChain.lastEpoch >= calldata.epoch ||
      (!earlier && now - this.unreachableSince.get(claim.id)! >= Math.min(waitMs, 30_000)) ||
      now - claim.created_at_ms > waitMs
    ) {
      this.unreachableSince.delete(claim.id);
      const why =
        onChain.lastEpoch >= calldata.epoch
          ? "a later epoch was paid first"
          : earlier
            ? "an earlier epoch's claim was not paid"
            : "no earlier epoch of the device is left to pay (its next run starts from the chain's state)";
      await this.fail(
        claim,
        `its stateIn is not the device's state on chain (last paid epoch ${onChain.lastEpoch}): ${why}`,
      );
      return true;
    }
    await this.workerStore.defer(
      claim.id,
      now + 1000,
      "waiting for the device's earlier epoch to be paid (state order)",
    );
    return true;
  }

  private async settle(claim: ClaimRow): Promise<void> {
    const result = await this.opts.chain.waitPaid(claim.tx_hash!);
    if (result.status === "paid") {
      await this.workerStore.markPaid(claim.id, { reward: result.reward, gasUsed: result.gasUsed }, this.opts.now());
      this.emit({
        type: "claim",
        claimId: claim.id,
        state: "paid",
        txHash: claim.tx_hash ?? undefined,
        reward: result.reward,
      });
    } else if (result.status === "reverted") {
      if (await this.opts.chain.isClaimed(claim.image_id, BigInt(claim.device_id), BigInt(claim.epoch))) {
        await this.workerStore.markPaid(claim.id, { note: "nullifier already spent" }, this.opts.now());
        this.emit({ type: "claim", claimId: claim.id, state: "paid", detail: "nullifier already spent" });
        return;
      }
      await this.retryOrFail(claim, new Error(result.error ?? "claim transaction reverted"), true, "proved");
    } else {
      // Not mined and not known: send again after a pause (the nullifier stops a double payment).
      await this.workerStore.reschedule(
        claim.id,
        "proved",
        claim.attempts,
        this.opts.now() + backoffMs(claim.attempts + 1),
        result.error ?? "transaction not found",
      );
    }
  }

  // ── bookkeeping ────────────────────────────────────────────────────────────────────────────────────────────

  private async retryOrFail(
    claim: ClaimRow,
    err: Error,
    retryable: boolean,
    back: ClaimState = "pending",
  ): Promise<void> {
    const attempts = claim.attempts + 1;
    if (!retryable || attempts >= this.opts.maxAttempts) return this.fail(claim, err.message, attempts);
    const moved = !(await this.workerStore.reschedule(
      claim.id,
      back,
      attempts,
      this.opts.now() + backoffMs(attempts),
      err.message,
    ));
    if (moved) return; // the claim moved on meanwhile (another attempt proved or paid it): no retry to announce
    this.emit({ type: "claim", claimId: claim.id, state: back, detail: `retry ${attempts}: ${err.message}` });
  }

  private async fail(claim: ClaimRow, message: string, attempts = claim.attempts + 1): Promise<void> {
    await this.workerStore.markFailed(claim.id, message, attempts, this.opts.now());
    this.emit({ type: "claim", claimId: claim.id, state: "failed", detail: message });
  }

  private emit(e: WorkerEvent): void {
    this.opts.onEvent?.(e);
  }
}
