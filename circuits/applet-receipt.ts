/**
 * Receipts of compiled applets (issue 18): the claim is what the applet's own Wasm computes, proven by the circuit
 * circuits/compile makes from that Wasm for K. The seal names that circuit (`applet_<imageId prefix>_k<K>`) and its
 * content hash; verification never trusts either: it recompiles the circuit from the Wasm the caller expects, checks
 * the content hash (so the verification key is the one the Wasm determines) and rebuilds the public signals from the
 * expected applet. A receipt of one applet never verifies against another: the imageId is a constant of the circuit.
 */
import { parseImageId } from "../core/index.ts";
import type { EpochWindow, PublicKey } from "../device-sdk/index.ts";
import { imageIdOf } from "../runtime/index.ts";
import { setupAppletCircuit, type AppletCircuit } from "./compile/keys.ts";
import { proveAppletClaim, verifyAppletProof } from "./compile/prove.ts";
import { ClaimMismatchError, InvalidVerifyOptionsError, ReceiptMismatchError } from "./errors.ts";
import type { ProverPool } from "./pool.ts";
import { compiledCircuitK, type Receipt } from "./receipt.ts";
import { R } from "./setup/field.ts";
import { selectSegment, type ChainReading } from "./witness.ts";

/**
 * The circuit sizes (K) an applet's circuits are compiled and registered for, smallest first: the devnet and
 * `mfi deploy` register a verifier for each, the worker and `mfi prove` take the smallest a segment fits.
 */
export const APPLET_SIZES: readonly number[] = [16, 64];

/** The compiled applet a receipt must be for: its Wasm (imageId = sha256) and its param, as the registry holds it. */
export interface ExpectedCompiledApplet {
  wasm: Uint8Array;
  /** The applet's param (applet.json `param`); required exactly when the receipt's circuit takes one. */
  param?: bigint;
  /** Progress of a first compile and dev setup (default: stderr). */
  log?: (msg: string) => void;
}

export interface ProveAppletReceiptOptions {
  /** The applet's circuit for the K the segment needs (setupAppletCircuit). */
  circuit: AppletCircuit;
  wasm: Uint8Array;
  readings: readonly ChainReading[];
  devicePublicKey: PublicKey;
  epoch: EpochWindow;
  param?: bigint;
  /** The output the caller's own run claimed: refused (ClaimMismatchError) when the applet computes another. */
  claim?: bigint;
  /** The journal digest of the run that made the claim (the worker passes it). */
  journalDigest?: string;
  pool?: ProverPool;
  /**
   * A stateful circuit: the device's state before the run ({ key hex: value hex }; absent: none yet). The receipt's
   * claim then carries stateIn and stateOut.
   */
  state?: Record<string, string>;
}

/** Proves the applet's claim with its compiled circuit and returns the receipt (seal in snarkjs order). */
export async function proveAppletReceipt(o: ProveAppletReceiptOptions): Promise<Receipt> {
  const p = await proveAppletClaim(o);
  if (o.claim !== undefined && o.claim !== p.claim.output)
    throw new ClaimMismatchError(`the applet computes ${p.claim.output}, the claim says ${o.claim}`, {
      details: "the circuit proves what the applet's Wasm computes on the signed readings",
    });
  const segment = selectSegment(o.readings, o.devicePublicKey, o.epoch);
  return {
    seal: {
      protocol: "groth16",
      curve: "bn128",
      circuit: o.circuit.name as Receipt["seal"]["circuit"],
      k: o.circuit.k,
      key: o.circuit.key,
      ...p.proof,
    },
    claim: {
      imageId: parseImageId(p.claim.imageId),
      deviceId: p.claim.deviceId,
      epoch: p.claim.epoch,
      output: p.claim.output,
      ...(p.claim.param !== undefined ? { param: p.claim.param } : {}),
      ...(p.claim.stateIn !== undefined ? { stateIn: p.claim.stateIn, stateOut: p.claim.stateOut } : {}),
    },
    ...(o.journalDigest ? { journalDigest: o.journalDigest } : {}),
    segment: {
      firstSeq: segment.slots[0]!.seq,
      signedSeq: segment.slots[segment.slots.length - 1]!.seq,
      insideCount: segment.insideCount,
    },
    publicSignals: p.publicSignals,
  };
}

const mismatch = (what: string) =>
  new ReceiptMismatchError(`the receipt is not for the expected applet: ${what}`, {
    details: "a compiled receipt is checked against the circuit recompiled from the applet's own Wasm",
    docsPath: "docs/circuits.md",
  });

/**
 * true when the receipt's proof verifies for the applet `wasm` compiles to; false when the proof or the claim's
 * deviceId, epoch or output do not. Throws ReceiptMismatchError when the receipt is for another applet, circuit,
 * K or param. A first call for a (Wasm, K) compiles and sets up the circuit (seconds to a minute, with progress).
 */
export async function verifyAppletReceipt(receipt: Receipt, a: ExpectedCompiledApplet): Promise<boolean> {
  if (!(a?.wasm instanceof Uint8Array))
    throw new InvalidVerifyOptionsError("the expected compiled applet needs its Wasm bytes");
  const k = compiledCircuitK(receipt.seal.circuit);
  if (k === undefined)
    throw mismatch(`its proof is from ${receipt.seal.circuit}, not from a circuit compiled from an applet's Wasm`);
  if (k !== receipt.seal.k) throw mismatch(`seal.k ${receipt.seal.k} is not its circuit's K ${k}`);
  const imageId = imageIdOf(a.wasm);
  if (receipt.claim.imageId !== imageId)
    throw mismatch(`it claims imageId ${receipt.claim.imageId}, the applet's Wasm is ${imageId}`);
  const param = a.param === undefined ? undefined : ((a.param % R) + R) % R;
  if (receipt.claim.param !== param)
    throw mismatch(`it claims param ${receipt.claim.param ?? "(none)"}, the applet's is ${param ?? "(none)"}`);
  const stateful = receipt.claim.stateIn !== undefined;
  const circuit = await setupAppletCircuit({ wasm: a.wasm, k, hasParam: param !== undefined, stateful, log: a.log });
  if (receipt.seal.circuit !== circuit.name || receipt.seal.key !== circuit.key)
    throw mismatch(
      `its seal names ${receipt.seal.circuit} (${receipt.seal.key?.slice(0, 12)}…), the Wasm compiles to ${circuit.name} (${circuit.key.slice(0, 12)}…)`,
    );
  // The receipt's own signals are informative only; signals that disagree with its claim make an invalid receipt.
  const { deviceId, epoch, output, stateIn, stateOut } = receipt.claim;
  const state = stateIn !== undefined ? { stateIn, stateOut: stateOut! } : {};
  const expected = [
    deviceId,
    epoch,
    output,
    ...(param !== undefined ? [param] : []),
    ...(stateIn !== undefined ? [stateIn, stateOut!] : []),
  ];
  if (
    receipt.publicSignals.length !== expected.length + 1 ||
    expected.some((v, i) => receipt.publicSignals[i + 1] !== v)
  )
    return false;
  return verifyAppletProof({
    circuit,
    claim: { imageId, deviceId, epoch, output, param, ...state },
    proof: receipt.seal,
  });
}
