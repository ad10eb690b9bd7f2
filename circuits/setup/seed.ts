/**
 * The published seed of the DEV trusted setup. INSECURE FOR PRODUCTION: anyone can rebuild tau, alpha, beta and the
 * phase-2 delta from these constants and forge proofs. It exists so every fresh clone derives the same keys and the
 * same Solidity verifiers in seconds. Production loads a ptau from a public ceremony and adds its own phase-2
 * contributions (docs/circuits.md, "Production setup").
 */
import { createHash } from "node:crypto";
import { R } from "./field.ts";
import type { Toxic } from "./zkey-writer.ts";

export const DEV_SEED = "machinefi dev trusted setup v1 - INSECURE, public seed, never use in production";
export const INSECURE_WARNING =
  "INSECURE dev trusted setup (public seed): proofs are forgeable; use a ceremony ptau and your own phase-2 in production";

/** A nonzero scalar from the seed and a label: sha512(seed | label) mod r (the 512-bit hash makes the bias negligible). */
export function seedScalar(label: string, seed = DEV_SEED): bigint {
  const h = createHash("sha512").update(`${seed}|${label}`).digest("hex");
  const x = BigInt("0x" + h) % R;
  return x === 0n ? 1n : x;
}

/** Phase 1 (powers of tau) secrets of the dev setup, as if from one beacon contribution over the seed. */
export function devToxic(seed = DEV_SEED): Toxic {
  return { tau: seedScalar("tau", seed), alpha: seedScalar("alpha", seed), beta: seedScalar("beta", seed) };
}

/** Phase 2: the hash handed to `snarkjs zkey beacon` for each circuit (deterministic, per circuit name). */
export function devBeaconHash(circuit: string, seed = DEV_SEED): string {
  return createHash("sha256").update(`${seed}|phase2|${circuit}`).digest("hex");
}
export const DEV_BEACON_ITERATIONS_EXP = 10;
