/**
 * The worker's ProvePort. "groth16" (default) proves each claim with the applet's own compiled circuit (circuits/
 * compile: the applet's Wasm compiled for K, real circom + snarkjs proofs off the main thread), K the smallest of
 * `sizes` the device's segment fits, so what the vault pays is what this exact Wasm computes; "mock" makes
 * MockVerifier proofs for fast local iteration (`mfi dev --mock-proofs`, devnets only: the applets must then be
 * registered with the mock verifier). A mock proof still computes the circuit's witness, which enforces every
 * constraint, and refuses the claims a real proof refuses: only the Groth16 step is skipped, so mock and real agree
 * claim for claim.
 */
import { claimSignals, encodeClaimProof, mockClaimProof } from "../contracts/index.ts";
import {
  APPLET_SIZES,
  checkAppletClaim,
  ClaimMismatchError,
  EmptyEpochError,
  InvalidProveOptionsError,
  NotProvableError,
  ProverPool,
  ProvingError,
  proveAppletReceipt,
  receiptToJSON,
  selectSegment,
  setupAppletCircuit,
  TooManyReadingsError,
  toCalldata,
  ValueRangeError,
  type AppletCircuit,
  type WarmReport,
} from "../circuits/index.ts";
import { packEpoch } from "../device-sdk/index.ts";
import { ProofRefusedError } from "./errors.ts";
import type { StoredReading } from "../store/index.ts";
import type { AppletSpec, ProveArgs, ProvePort, ProvedClaim } from "./ports.ts";

export { APPLET_SIZES };

export interface ProverHandle {
  prove: ProvePort;
  mode: "groth16" | "mock";
  /**
   * Starts the proving processes now and reads these applets' proving keys into them (every size, smallest K of every
   * applet first, within each process's key budget), so the first claim costs a warm proof. Idempotent: only
   * circuits not warmed yet are sent again. Undefined with mock proofs (nothing to warm).
   */
  warm(applets: readonly Pick<AppletSpec, "imageId" | "wasm" | "param">[]): Promise<WarmReport | undefined>;
  close(): Promise<void>;
}

/**
 * The applet's circuit for K, compiled and set up on first use (cached on disk under build/applet-circuits/ and here
 * per process). A NotProvableError comes back as is: the applet cannot be proven at all.
 */
export function appletCircuits(log: (m: string) => void = () => {}) {
  const memo = new Map<string, Promise<AppletCircuit>>();
  return (applet: Pick<AppletSpec, "imageId" | "wasm" | "param">, k: number): Promise<AppletCircuit> => {
    const key = `${applet.imageId}:${k}:${applet.param !== undefined}`;
    let c = memo.get(key);
    if (!c) {
      // issue 18: a stateful applet's circuit carries its state (PayoutVault.claimStateful pays it); stateless
      // applets compile to the same circuit either way
      c = setupAppletCircuit({ wasm: applet.wasm, k, hasParam: applet.param !== undefined, stateful: true, log });
      memo.set(key, c);
      c.catch(() => memo.delete(key));
    }
    return c;
  };
}

/** Failures that come back the same on every attempt: the claim is refused at once instead of retried. */
const PERMANENT = [
  ClaimMismatchError,
  TooManyReadingsError,
  EmptyEpochError,
  ValueRangeError,
  InvalidProveOptionsError,
  NotProvableError,
];

async function refusing<T>(f: () => Promise<T>, permanent: readonly (abstract new (...a: never[]) => Error)[]) {
  try {
    return await f();
  } catch (err) {
    if (permanent.some((E) => err instanceof E)) throw new ProofRefusedError((err as Error).message, { cause: err });
    throw err;
  }
}

/** The smallest of `sizes` (ascending) the device's segment for the epoch fits. */
function circuitSize(a: ProveArgs, sizes: readonly number[]): { k: number; readings: StoredReading[] } {
  const readings = [...(a.before ? [a.before] : []), ...a.inside, ...a.after];
  const needed = selectSegment(readings, a.device.publicKey, a.epoch).slots.length;
  const k = sizes.find((s) => s >= needed);
  if (k === undefined)
    throw new TooManyReadingsError(
      `the segment needs ${needed} slots but the applet's largest circuit has K = ${sizes[sizes.length - 1]}`,
      { details: "use shorter epochs, or have the device sign a reading soon after each epoch ends" },
    );
  return { k, readings };
}

export function circuitsProvePort(
  opts: {
    concurrency?: number;
    mode?: "groth16" | "mock";
    /** Circuit sizes to choose from (default APPLET_SIZES); each must be registered on chain for the applet. */
    sizes?: readonly number[];
    /** Progress of a first compile and setup of an applet's circuit. */
    log?: (m: string) => void;
  } = {},
): ProverHandle {
  const mode = opts.mode ?? "groth16";
  const sizes = [...(opts.sizes ?? APPLET_SIZES)].sort((x, y) => x - y);
  if (mode === "mock") {
    return {
      mode,
      // Everything a proof checks, by computing the circuit's witness; a witness failure is refused at once (it is
      // computed here, deterministically: no crashed prover to retry for).
      prove: (a) =>
        refusing(async () => {
          const { k, readings } = circuitSize(a, sizes);
          await checkAppletClaim({
            wasm: a.applet.wasm,
            k,
            param: a.applet.param,
            readings,
            devicePublicKey: a.device.publicKey,
            epoch: a.epoch,
            output: a.output,
            log: opts.log,
          });
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
            receipt: JSON.stringify({
              mock: true,
              k,
              witness: "satisfied",
              signals: signals.map(String),
              journalDigest: a.journalDigest,
            }),
            calldata,
          };
        }, [...PERMANENT, ProvingError]),
      warm: async () => undefined,
      close: async () => {},
    };
  }
  // Each proof runs in a child process of the pool; `concurrency` of them at once (both cores with 2).
  const pool = new ProverPool(opts.concurrency ?? 1);
  const circuitFor = appletCircuits(opts.log);
  const warmed = new Set<string>();
  let lastWarm: Promise<WarmReport | undefined> = Promise.resolve(undefined);
  return {
    mode,
    prove: (a) =>
      refusing(async () => {
        const { k, readings } = circuitSize(a, sizes);
        const circuit = await circuitFor(a.applet, k);
        const receipt = await proveAppletReceipt({
          circuit,
          wasm: a.applet.wasm,
          readings,
          devicePublicKey: a.device.publicKey,
          epoch: a.epoch,
          param: a.applet.param,
          claim: a.output,
          journalDigest: a.journalDigest,
          pool,
          // issue 18: from the device's state before the run (none yet: the empty state)
          ...(circuit.stateKeys?.length && a.state ? { state: a.state } : {}),
        });
        return { receipt: receiptToJSON(receipt), calldata: toCalldata(receipt) };
      }, PERMANENT),
    // One warm-up after another: a later call's report then covers the keys an earlier one was still reading.
    warm: (applets) => {
      const r = lastWarm.then(() => warm(applets));
      lastWarm = r.catch(() => undefined);
      return r;
    },
    close: () => pool.close(),
  };
  async function warm(applets: readonly Pick<AppletSpec, "imageId" | "wasm" | "param">[]) {
    // The processes start (and choose their backend) while the circuits are looked up below.
    const started = pool.warm([]);
    const circuits: { zkey: string; wasm?: string }[] = [];
    for (const k of sizes)
      for (const a of applets) {
        const id = `${a.imageId}:${k}:${a.param !== undefined}`;
        if (warmed.has(id)) continue;
        warmed.add(id);
        try {
          const c = await circuitFor(a, k);
          // Witness code compiled ahead for the smallest K only (most claims; seconds of CPU per circuit and
          // process): a larger K's compiles at its first proof.
          circuits.push({ zkey: c.zkey, ...(k === sizes[0] ? { wasm: c.wasm } : {}) });
        } catch {
          // Not provable (or its circuit does not build): its claims are refused with the reason, nothing to warm.
        }
      }
    return circuits.length ? pool.warm(circuits) : started;
  }
}
