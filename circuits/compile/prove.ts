/**
 * Proving and verifying a compiled applet's claim (circuits/compile/keys.ts builds the circuit and its keys). The
 * output is what the runtime computes for the applet on the epoch's readings; the circuit recomputes it from the
 * signed chain, so a prover who passes another output, leaves a reading out or uses another applet finds no
 * witness. Verification rebuilds the public signals from the applet the caller expects, never from the proof.
 */
import { readFileSync } from "node:fs";
import { imageIdHex } from "../../core/index.ts";
import { deviceIdOf, imageIdToField, packEpoch, type EpochWindow, type PublicKey } from "../../device-sdk/index.ts";
import { imageIdOf, paramConfig } from "../../runtime/index.ts";
import { runApplet } from "../../toolchain/index.ts";
import { ClaimMismatchError, InvalidProveOptionsError, TooManyReadingsError } from "../errors.ts";
import { getDefaultPool } from "../prover.ts";
import type { ProverPool, RawProof } from "../pool.ts";
import type { G1, G2 } from "../receipt.ts";
import { R } from "../setup/field.ts";
import { verifyGroth16 } from "../verify.ts";
import { readingsInput, selectSegment, type ChainReading, type CircuitInput } from "../witness.ts";
import type { AppletCircuit } from "./keys.ts";
import { stateCommitment, stateSlots } from "./state-commit.ts";

export interface AppletClaim {
  /** 0x + sha256 of the applet's Wasm. */
  imageId: string;
  deviceId: bigint;
  /** packEpoch({startMs, lengthMs}). */
  epoch: bigint;
  output: bigint;
  /** The applet's param as the field element the circuit takes (an i64, negative values as r − |p|). */
  param?: bigint;
  /** Stateful applets: the commitments of the device's state before and after the run (state-commit.ts). */
  stateIn?: bigint;
  stateOut?: bigint;
}

export interface AppletProof {
  circuit: string;
  k: number;
  claim: AppletClaim;
  proof: { a: G1; b: G2; c: G1 };
  publicSignals: bigint[];
  stats: Omit<RawProof, "proof" | "publicSignals">;
  /** Stateful applets: the device's state after the run (what the next epoch's proof starts from). */
  stateAfter?: Record<string, string>;
}

export interface ProveAppletOptions {
  circuit: AppletCircuit;
  /** The applet's Wasm: must be the circuit's imageId. */
  wasm: Uint8Array;
  readings: readonly ChainReading[];
  devicePublicKey: PublicKey;
  epoch: EpochWindow;
  /** The applet's config param (required exactly when the circuit was compiled with one). */
  param?: bigint;
  /**
   * A stateful circuit: the device's state before this epoch, as the runtime keeps it ({ key hex: value hex }, the
   * AppletState entry of the device), i.e. the state the previous claimed epoch's run left; absent = no state yet.
   */
  state?: Record<string, string>;
  pool?: ProverPool;
}

const toField = (v: bigint) => ((v % R) + R) % R;

/** The witness input of a compiled main: the readings circuit's layout, with the param under its own name. */
export function appletInput(o: {
  circuit: Pick<AppletCircuit, "k" | "imageId">;
  segment: ReturnType<typeof selectSegment>;
  publicKey: PublicKey;
  epoch: bigint;
  output: bigint;
  param?: bigint;
}): CircuitInput {
  const input = readingsInput({
    segment: o.segment,
    k: o.circuit.k,
    publicKey: o.publicKey,
    imageIdField: imageIdToField(o.circuit.imageId),
    epoch: o.epoch,
    output: o.output,
  });
  if (o.param !== undefined) input.param = toField(o.param).toString();
  return input;
}

export async function proveAppletClaim(opts: ProveAppletOptions): Promise<AppletProof> {
  const { circuit } = opts;
  const { claim, input, stateAfter } = await prepareAppletClaim(opts);
  const raw = await (opts.pool ?? getDefaultPool()).prove(input, circuit.wasm, circuit.zkey);
  const { proof: p, publicSignals, ...stats } = raw;
  return {
    circuit: circuit.name,
    k: circuit.k,
    claim,
    proof: {
      a: [BigInt(p.pi_a[0]!), BigInt(p.pi_a[1]!)],
      b: [
        [BigInt(p.pi_b[0]![0]!), BigInt(p.pi_b[0]![1]!)],
        [BigInt(p.pi_b[1]![0]!), BigInt(p.pi_b[1]![1]!)],
      ],
      c: [BigInt(p.pi_c[0]!), BigInt(p.pi_c[1]!)],
    },
    publicSignals: publicSignals.map(BigInt),
    stats,
    ...(stateAfter !== undefined ? { stateAfter } : {}),
  };
}

/**
 * Everything before proving: the checks, the applet's run on the epoch's readings and the witness input of the
 * compiled main (a batch circuit feeds the same input into each device's component).
 */
export async function prepareAppletClaim(
  opts: Omit<ProveAppletOptions, "pool" | "circuit"> & {
    circuit: Pick<AppletCircuit, "name" | "imageId" | "k" | "hasParam" | "stateKeys">;
  },
): Promise<{ claim: AppletClaim; input: CircuitInput; stateAfter?: Record<string, string> }> {
  const { circuit } = opts;
  const imageId = imageIdOf(opts.wasm);
  if (imageIdHex(imageId) !== circuit.imageId)
    throw new InvalidProveOptionsError(
      `the Wasm (imageId ${imageIdHex(imageId)}) is not the circuit's applet (${circuit.imageId})`,
      { details: "set up the circuit for this Wasm (setupAppletCircuit)" },
    );
  if ((opts.param !== undefined) !== circuit.hasParam)
    throw new InvalidProveOptionsError(
      circuit.hasParam
        ? `circuit ${circuit.name} takes the applet's param: pass param`
        : `circuit ${circuit.name} was compiled without a param, got ${opts.param}`,
    );
  const epoch = packEpoch(opts.epoch);
  const segment = selectSegment(opts.readings, opts.devicePublicKey, opts.epoch);
  if (segment.slots.length > circuit.k) {
    throw new TooManyReadingsError(
      `the segment needs ${segment.slots.length} slots (${segment.insideCount} in the epoch) but ${circuit.name} has K = ${circuit.k}`,
      { details: "set up the applet's circuit for a larger K" },
    );
  }
  // ReadingsChain, shared with the built-in circuits, range-checks values[0] ∈ [0, 2^63) for inside slots (issue 16),
  // so such an epoch has no witness although the runtime accepts it: refused here, before any work (docs/circuits.md).
  const negative = segment.slots.slice(0, segment.insideCount).find((r) => r.values[0]! < 0n);
  if (negative)
    throw new InvalidProveOptionsError(
      `reading seq ${negative.seq} has values[0] = ${negative.values[0]} < 0: compiled circuits prove values[0] in [0, 2^63) only`,
      {
        details: "keep values[0] non-negative (offset it on the device, e.g. temperature + 2730), or use values[1..3]",
      },
    );
  const deviceId = deviceIdOf(opts.devicePublicKey);
  const keys = circuit.stateKeys ?? [];
  if (!keys.length && opts.state !== undefined)
    throw new InvalidProveOptionsError(`circuit ${circuit.name} is stateless, got a state`);
  const inside = segment.slots
    .slice(0, segment.insideCount)
    .map((r) => ({ deviceId, seq: r.seq, ts: r.ts, values: r.values }));
  const run = await runApplet({
    wasm: opts.wasm,
    readings: inside,
    epoch: { startMs: opts.epoch.startMs, lengthMs: opts.epoch.lengthMs },
    config: paramConfig(opts.param),
    ...(keys.length ? { state: opts.state ? { [deviceId.toString()]: opts.state } : {} } : {}),
  });
  const claims = run.trap ? [] : run.decoded.claims.filter((c) => c.deviceId === deviceId);
  if (claims.length !== 1) {
    throw new ClaimMismatchError(
      `the applet makes ${run.trap ? `no claim (trap ${run.trap.kind})` : `${claims.length} claims`} for device ${deviceId} in this epoch`,
      { details: "a proof states the one claim a run that does not trap makes; there is nothing to prove" },
    );
  }
  const output = claims[0]!.output;
  const param = opts.param !== undefined ? toField(opts.param) : undefined;
  const input = appletInput({ circuit, segment, publicKey: opts.devicePublicKey, epoch, output, param: opts.param });
  const claim: AppletClaim = { imageId, deviceId, epoch, output, ...(param !== undefined ? { param } : {}) };
  if (!keys.length) return { claim, input };
  const stateAfter = run.state[deviceId.toString()] ?? {};
  input.stateValues = stateSlots(keys, opts.state).map(String);
  claim.stateIn = stateCommitment(keys, opts.state);
  claim.stateOut = stateCommitment(keys, stateAfter);
  input.stateIn = claim.stateIn.toString();
  input.stateOut = claim.stateOut.toString();
  return { claim, input, stateAfter };
}

/**
 * true when `proof` verifies for `claim` under the circuit's verification key. The signals come from the claim the
 * caller expects (its imageId, deviceId, epoch, output, param), in the order the compiled main declares them.
 */
export async function verifyAppletProof(o: {
  circuit: AppletCircuit;
  claim: AppletClaim;
  proof: { a: G1; b: G2; c: G1 };
}): Promise<boolean> {
  const vk = JSON.parse(readFileSync(o.circuit.vkey, "utf8")) as unknown;
  const c = o.claim;
  const signals = [
    imageIdToField(c.imageId),
    c.deviceId,
    c.epoch,
    c.output,
    ...(c.param !== undefined ? [c.param] : []),
    ...(c.stateIn !== undefined ? [c.stateIn, c.stateOut!] : []),
  ];
  return verifyGroth16({ vk, signals, proof: o.proof, circuit: o.circuit.name });
}
