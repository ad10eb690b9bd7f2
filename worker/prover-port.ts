/**
 * The worker's ProvePort. "groth16" (default) proves with circuits/ (real circom + snarkjs proofs, off the main
 * thread); "mock" makes MockVerifier proofs for fast local iteration (`mfi dev --mock-proofs`, devnets only: the
 * applets must then be registered with the mock verifier, and nothing about the claim is proven).
 */
import { claimSignals, encodeClaimProof, mockClaimProof } from "../contracts/index.ts";
import {
  ClaimMismatchError,
  EmptyEpochError,
  InvalidProveOptionsError,
  ProverPool,
  proveClaim,
  receiptToJSON,
  TooManyReadingsError,
  toCalldata,
  ValueRangeError,
} from "../circuits/index.ts";
import { packEpoch } from "../device-sdk/index.ts";
import { ProofRefusedError } from "./errors.ts";
import type { ProvePort, ProvedClaim } from "./ports.ts";

export interface ProverHandle {
  prove: ProvePort;
  mode: "groth16" | "mock";
  close(): Promise<void>;
}

export function circuitsProvePort(opts: { concurrency?: number; mode?: "groth16" | "mock" } = {}): ProverHandle {
  const mode = opts.mode ?? "groth16";
  if (mode === "mock") {
    return {
      mode,
      async prove(a) {
        const epoch = packEpoch(a.epoch);
        const signals = claimSignals({
          imageId: a.applet.imageId,
          deviceId: a.device.deviceId,
          epoch,
          output: a.output,
          param: a.applet.param,
        });
        const calldata: ProvedClaim["calldata"] = {
          imageId: a.applet.imageId,
          deviceId: a.device.deviceId,
          epoch,
          output: a.output,
          proof: encodeClaimProof(mockClaimProof(signals, 16)),
        };
        return {
          receipt: JSON.stringify({ mock: true, signals: signals.map(String), journalDigest: a.journalDigest }),
          calldata,
        };
      },
      close: async () => {},
    };
  }
  // Each proof runs in a child process of the pool; `concurrency` of them at once (both cores with 2).
  const pool = new ProverPool(opts.concurrency ?? 1);
  return {
    mode,
    async prove(a) {
      try {
        const receipt = await proveClaim({
          readings: [...(a.before ? [a.before] : []), ...a.inside, ...a.after],
          devicePublicKey: a.device.publicKey,
          epoch: a.epoch,
          imageId: a.applet.imageId,
          reducer: a.applet.reducer,
          params: a.applet.param === undefined ? undefined : { threshold: a.applet.param },
          claim: a.output,
          journalDigest: a.journalDigest,
          pool,
        });
        return { receipt: receiptToJSON(receipt), calldata: toCalldata(receipt) };
      } catch (err) {
        // These will fail the same way on every attempt: mark the claim failed at once instead of retrying.
        const permanent = [
          ClaimMismatchError,
          TooManyReadingsError,
          EmptyEpochError,
          ValueRangeError,
          InvalidProveOptionsError,
        ].some((E) => err instanceof E);
        if (permanent) throw new ProofRefusedError((err as Error).message, { cause: err });
        throw err;
      }
    },
    close: () => pool.close(),
  };
}
