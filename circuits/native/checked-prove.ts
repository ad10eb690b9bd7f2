/**
 * The native or Wasm prover as the proving processes use it (prove-worker.mjs loads this when the pool chose one of
 * them; both have the NativeAddon interface): prove from a witness in memory, then verify the proof with snarkjs against the key's own verification key
 * before handing it out (about 10 ms; a wrong proof would cost a reverted transaction and a failed claim). Any failure
 * falls back to snarkjs for that proof, with the reason.
 */
// @ts-expect-error snarkjs ships no types
import * as snarkjs from "snarkjs";
import { le32, proverBackend } from "./loader.ts";
import { keyCacheStats, keyOf, preloadKey, proveNative, uncounted, type SnarkjsProof } from "./prove.ts";
import { R } from "../setup/field.ts";

const vkeys = new Map<string, Promise<unknown>>();
const vkeyOf = (zkey: string) => {
  let v = vkeys.get(zkey);
  if (!v) vkeys.set(zkey, (v = snarkjs.zKey.exportVerificationKey(zkey) as Promise<unknown>));
  return v;
};

/**
 * Prover pool warm-up (prove-worker.mjs): choose the backend now (its self-check), then read each proving key and its
 * verification key into memory while they fit the key cache (circuits/native/prove.ts), in the order given.
 */
export async function warmKeys(zkeys: readonly string[]): Promise<{
  backend: "native" | "wasm" | "snarkjs";
  loaded: string[];
  skipped: string[];
  cache: ReturnType<typeof keyCacheStats>;
}> {
  const b = proverBackend();
  const loaded: string[] = [];
  const skipped: string[] = [];
  if (b.backend !== "snarkjs")
    for (const z of zkeys) {
      let ok = false;
      try {
        ok = preloadKey(z);
        if (ok) await vkeyOf(z);
      } catch {
        ok = false; // unreadable now: the proof that needs it reports why
      }
      (ok ? loaded : skipped).push(z);
    }
  return { backend: b.backend, loaded, skipped, cache: keyCacheStats() };
}

export { keyCacheStats };

/**
 * One throw-away proof of the key with an all-zero witness (warm-up): runs the prover's and the verifier's code once,
 * so the first real proof does not pay their first-run costs. The proof does not verify (a zero witness satisfies no
 * circuit with a constant-one wire), and nothing is kept.
 */
export function dryRun(zkey: string): Promise<void> {
  return uncounted(() => dryRunCounted(zkey));
}

async function dryRunCounted(zkey: string): Promise<void> {
  const b = proverBackend();
  if (b.backend === "snarkjs") return;
  const n = keyOf(zkey).nVars;
  const wtns = new Uint8Array(12 + 12 + 40 + 12 + 32 * n);
  const dv = new DataView(wtns.buffer);
  wtns.set(new TextEncoder().encode("wtns"), 0);
  dv.setUint32(4, 2, true);
  dv.setUint32(8, 2, true);
  dv.setUint32(12, 1, true);
  dv.setBigUint64(16, 40n, true);
  dv.setUint32(24, 32, true);
  wtns.set(le32(R), 28);
  dv.setUint32(60, n, true);
  dv.setUint32(64, 2, true);
  dv.setBigUint64(68, BigInt(32 * n), true);
  const { proof, publicSignals } = proveNative({ addon: b.addon, zkey, wtns });
  await snarkjs.groth16.verify(await vkeyOf(zkey), publicSignals, proof);
}

export type CheckedProof =
  { proof: SnarkjsProof; publicSignals: string[]; backend: "native" | "wasm" } | { backend: "snarkjs"; reason: string };

/** A verified proof of the chosen backend, or why not (then prove with snarkjs). */
export async function proveChecked(zkey: string, wtns: Uint8Array): Promise<CheckedProof> {
  const b = proverBackend();
  if (b.backend === "snarkjs") return { backend: "snarkjs", reason: b.reason };
  try {
    const { proof, publicSignals } = proveNative({ addon: b.addon, zkey, wtns });
    if (!(await snarkjs.groth16.verify(await vkeyOf(zkey), publicSignals, proof)))
      return { backend: "snarkjs", reason: `the ${b.backend} proof did not verify (reported; proved with snarkjs)` };
    return { proof, publicSignals, backend: b.backend };
  } catch (e) {
    return { backend: "snarkjs", reason: `the ${b.backend} prover failed: ${(e as Error).message.split("\n")[0]}` };
  }
}
