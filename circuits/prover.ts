/**
 * proveClaim: from signed readings to a Groth16 receipt the vault accepts (verify.ts checks one against an applet).
 * Proving runs in child processes (pool.ts); verifying is a pairing check in-process (tens of milliseconds).
 */
import { readFileSync, existsSync } from "node:fs";
import {
  imageIdToField,
  packEpoch,
  unpackEpoch,
  deviceIdOf,
  type EpochWindow,
  type PublicKey,
} from "../device-sdk/index.ts";
import { parseImageId, type ImageId } from "../core/index.ts";
import { SIZES, REDUCERS, REDUCER_PARAM, readingsName, type Reducer } from "./catalog.ts";
import { artifactsOf, isBuilt, BUILD_DIR } from "./setup/build.ts";
import {
  TooManyReadingsError,
  ClaimMismatchError,
  InvalidProveOptionsError,
  CircuitNotBuiltError,
  ProvingError,
} from "./errors.ts";
import { selectSegment, readingsInput, type ChainReading } from "./witness.ts";
import { reduce } from "./reduce.ts";
import { claimPublicSignals, type Receipt, type G1, type G2 } from "./receipt.ts";
import { ProverPool, type RawProof } from "./pool.ts";

export interface ProveClaimOptions {
  /** The device's readings around the epoch (any superset of: the one before, all inside, those after up to the first signed). */
  readings: readonly ChainReading[];
  devicePublicKey: PublicKey;
  /** packEpoch value or the window itself. */
  epoch: bigint | EpochWindow;
  /** sha256 of the applet's Wasm, hex (0x optional). */
  imageId: string;
  reducer: Reducer;
  params?: { threshold?: bigint };
  /** The applet's claimed output: proving is refused when the circuit computes another. */
  claim?: bigint;
  /**
   * The journal digest of the applet run that made the claim, carried in the receipt so it traces back to that run.
   * The worker always passes it (ProveArgs requires it); `mfi prove` proves readings without a run and has none.
   */
  journalDigest?: string;
  /** Circuit sizes to choose from (smallest that fits wins); default 16, 64, 256. */
  sizes?: readonly number[];
  pool?: ProverPool;
  buildDir?: string;
  onProgress?: (event: { stage: string; circuit: string }) => void;
}

export interface ProveResult extends Receipt {
  stats: Omit<RawProof, "proof" | "publicSignals">;
}

let defaultPool: ProverPool | undefined;
/** The shared pool proveClaim uses when none is given (one process; create a ProverPool(2) for two at once). */
export function getDefaultPool(): ProverPool {
  return (defaultPool ??= new ProverPool(1));
}

/** Ends the default prover pool and snarkjs's curve threads (call before exiting a process that proved or verified). */
export async function closeProver(): Promise<void> {
  await defaultPool?.close();
  defaultPool = undefined;
  const g = globalThis as { curve_bn128?: { terminate(): Promise<void> } };
  await g.curve_bn128?.terminate();
  delete g.curve_bn128;
}

function normalizeImageId(id: string): ImageId {
  try {
    return parseImageId(id);
  } catch (e) {
    throw new InvalidProveOptionsError((e as Error).message, { cause: e });
  }
}

export async function proveClaim(opts: ProveClaimOptions): Promise<ProveResult> {
  if (!REDUCERS.includes(opts.reducer))
    throw new InvalidProveOptionsError(
      `unknown reducer ${JSON.stringify(opts.reducer)}: use one of ${REDUCERS.join(", ")}`,
    );
  const imageId = normalizeImageId(opts.imageId);
  let window: EpochWindow;
  let epoch: bigint;
  try {
    window = typeof opts.epoch === "bigint" ? unpackEpoch(opts.epoch) : opts.epoch;
    epoch = packEpoch(window);
  } catch (e) {
    throw new InvalidProveOptionsError(`invalid epoch: ${(e as Error).message}`, { cause: e });
  }
  const paramName = REDUCER_PARAM[opts.reducer];
  const param = paramName ? opts.params?.threshold : undefined;
  if (paramName && param === undefined)
    throw new InvalidProveOptionsError(`reducer ${opts.reducer} needs params.${paramName}`);

  const segment = selectSegment(opts.readings, opts.devicePublicKey, window);
  const insideValues = segment.slots.slice(0, segment.insideCount).map((r) => r.values[0] ?? 0n);
  const output = reduce(opts.reducer, insideValues, param);
  if (opts.claim !== undefined && opts.claim !== output) {
    throw new ClaimMismatchError(
      `the applet claims ${opts.claim} but the ${opts.reducer} of the epoch's ${segment.insideCount} reading(s) is ${output}`,
      {
        details:
          "the applet's declared reducer does not match what it computes; fix the applet or its declared reducer",
        docsPath: "docs/circuits.md#reducers",
      },
    );
  }

  const sizes = [...(opts.sizes ?? SIZES)].sort((a, b) => a - b);
  const needed = segment.slots.length;
  const k = sizes.find((s) => s >= needed);
  if (k === undefined) {
    throw new TooManyReadingsError(
      `the segment needs ${needed} slots (${segment.insideCount} in the epoch, ${needed - segment.insideCount} after it up to the first signed reading) but the largest circuit has ${sizes[sizes.length - 1]}`,
      {
        details:
          "use shorter epochs, have the device sign a reading soon after each epoch ends, or build a larger circuit (npm run build:circuits -- --circuits readings_<reducer>_<K>) and pass it in sizes",
        docsPath: "docs/circuits.md#sizes",
      },
    );
  }
  const name = readingsName(opts.reducer, k);
  const buildDir = opts.buildDir ?? BUILD_DIR;
  const files = artifactsOf(name, buildDir);
  if (!(opts.buildDir ? existsSync(files.zkey) && existsSync(files.wasm) : isBuilt(name))) {
    throw new CircuitNotBuiltError(`circuit ${name} is not built (or its keys are stale)`, {
      details: `run \`npm run build:circuits -- --circuits ${name}\``,
    });
  }
  const input = readingsInput({
    segment,
    k,
    publicKey: opts.devicePublicKey,
    imageIdField: imageIdToField(imageId),
    epoch,
    output,
    param,
  });
  opts.onProgress?.({ stage: "queued", circuit: name });
  const raw = await (opts.pool ?? getDefaultPool()).prove(input, files.wasm, files.zkey, (stage) =>
    opts.onProgress?.({ stage, circuit: name }),
  );
  const claim = {
    imageId,
    deviceId: deviceIdOf(opts.devicePublicKey),
    epoch,
    output,
    reducer: opts.reducer,
    ...(param !== undefined ? { param } : {}),
  };
  const publicSignals = raw.publicSignals.map(BigInt);
  const expected = claimPublicSignals(claim);
  if (publicSignals.length !== expected.length || publicSignals.some((s, i) => s !== expected[i])) {
    throw new ProvingError(`circuit ${name} produced public signals [${publicSignals}] instead of [${expected}]`, {
      details: "the circuit and circuits/catalog.ts disagree on the public signal order",
    });
  }
  const { proof, publicSignals: _p, ...stats } = raw;
  const p = proof;
  return {
    seal: {
      protocol: "groth16",
      curve: "bn128",
      circuit: name,
      k,
      a: [BigInt(p.pi_a[0]!), BigInt(p.pi_a[1]!)],
      b: [
        [BigInt(p.pi_b[0]![0]!), BigInt(p.pi_b[0]![1]!)],
        [BigInt(p.pi_b[1]![0]!), BigInt(p.pi_b[1]![1]!)],
      ],
      c: [BigInt(p.pi_c[0]!), BigInt(p.pi_c[1]!)],
    },
    claim,
    ...(opts.journalDigest ? { journalDigest: opts.journalDigest } : {}),
    segment: {
      firstSeq: segment.slots[0]!.seq,
      signedSeq: segment.slots[segment.slots.length - 1]!.seq,
      insideCount: segment.insideCount,
    },
    publicSignals,
    stats,
  };
}

const vkeys = new Map<string, unknown>();
export function verificationKey(circuit: string, buildDir = BUILD_DIR): unknown {
  const key = `${buildDir}\0${circuit}`;
  if (!vkeys.has(key)) {
    const file = artifactsOf(circuit, buildDir).vkey;
    if (!existsSync(file))
      throw new CircuitNotBuiltError(`no verification key for ${circuit} at ${file}`, {
        details: `run \`npm run build:circuits -- --circuits ${circuit}\``,
      });
    vkeys.set(key, JSON.parse(readFileSync(file, "utf8")));
  }
  return vkeys.get(key);
}

export function snarkjsProof(s: { a: G1; b: G2; c: G1 }) {
  return {
    protocol: "groth16",
    curve: "bn128",
    pi_a: [s.a[0].toString(), s.a[1].toString(), "1"],
    pi_b: [
      [s.b[0][0].toString(), s.b[0][1].toString()],
      [s.b[1][0].toString(), s.b[1][1].toString()],
      ["1", "0"],
    ],
    pi_c: [s.c[0].toString(), s.c[1].toString(), "1"],
  };
}
