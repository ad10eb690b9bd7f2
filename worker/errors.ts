/**
 * The worker's errors. A port tells the worker how to treat a failure by its class: a `ProofRefusedError` fails the
 * claim at once (it fails the same way on every attempt), an `AlreadyClaimedError` means the vault had already paid
 * it (recorded as paid); anything else is retried with backoff, a bounded number of times.
 */
import { BaseError, type BaseErrorOptions } from "../core/index.ts";

export class WorkerError extends BaseError {
  override name = "WorkerError";
}

/** The prover refuses this claim for good (the circuit computes another output, too many readings, …). */
export class ProofRefusedError extends WorkerError {
  override name = "ProofRefusedError";

  constructor(reason: string, opts: BaseErrorOptions = {}) {
    super(reason, opts);
  }
}

/** The vault refused the claim because its nullifier is spent: the device-epoch was paid before. */
export class AlreadyClaimedError extends WorkerError {
  override name = "AlreadyClaimedError";
  readonly imageId: string;
  readonly deviceId: bigint;
  readonly epoch: bigint;

  constructor(claim: { imageId: string; deviceId: bigint; epoch: bigint }, opts: BaseErrorOptions = {}) {
    super(`device ${claim.deviceId} epoch ${claim.epoch} of applet ${claim.imageId} is already paid`, opts);
    this.imageId = claim.imageId;
    this.deviceId = claim.deviceId;
    this.epoch = claim.epoch;
  }
}

/**
 * Issue 22: the applet's module cannot be loaded (the runtime refuses it: a float, an unknown import, …). It fails
 * the same way for every device and epoch, so the worker quarantines the applet instead of retrying it every pass.
 */
export class AppletLoadError extends WorkerError {
  override name = "AppletLoadError";
  readonly imageId: string;

  constructor(imageId: string, reason: string, opts: BaseErrorOptions = {}) {
    super(reason, opts);
    this.imageId = imageId;
  }
}

/**
 * Issue 18: a chain read a run depends on (a stateful applet's device token, key validity or state) failed or timed
 * out. Not "the chain does not know": the run is not stored, and the next pass runs it again.
 */
export class ChainReadError extends WorkerError {
  override name = "ChainReadError";

  constructor(what: string, opts: BaseErrorOptions = {}) {
    super(`cannot read ${what} from the chain; the run waits for the next pass`, opts);
  }
}

/**
 * Issue 26: the vault's verifier for the applet's batches of N holds another key than the circuit this worker proves
 * with (circom's other simplification level of the same circuit, another version of it, or another setup), so the
 * vault would refuse
 * every batch proof as InvalidProof. The batcher proves none of the applet's batches while it lasts; its claims stay
 * queued. Verifiers never change once set: prove with the keys that set it, or switch the applet to a new vault.
 */
export class BatchVerifierMismatchError extends WorkerError {
  override name = "BatchVerifierMismatchError";
  readonly imageId: string;

  constructor(imageId: string, n: number, opts: BaseErrorOptions = {}) {
    super(
      `applet ${imageId}: the vault's verifier for batches of ${n} is not this worker's batch circuit (another key)`,
      opts,
    );
    this.imageId = imageId;
  }
}
