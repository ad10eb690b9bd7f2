/**
 * Register every applet in applets/ on L1 (once per imageId) and with the epoch worker. Each applet is proven by its
 * own compiled circuit: its Wasm is compiled and set up (dev keys, cached under build/applet-circuits/) for every K
 * the worker proves with (APPLET_SIZES), and those circuits' generated verifiers are deployed and registered. An
 * applet the compiler cannot express (NotProvableError) is skipped with one warning: it could never be paid. The devnet's epoch length
 * (`epochMs`, from --epoch-ms / MFI_EPOCH_MS) overrides applet.json's `epochLengthMs` for the devnet's own applets,
 * and a devnet replaying history (`fromMs`) sets the genesis there so that history is payable. With mock proofs the
 * circuits are only compiled (no circom, no setup), so an unprovable applet is skipped there too. The worker then
 * closes the schedule the chain holds (an applet registered earlier keeps its schedule: it never changes).
 */
import { readFileSync, existsSync } from "node:fs";
import type { CompiledVerifierSource, MachinefiClient } from "../../contracts/index.ts";
import { imageIdHex } from "../../core/index.ts";
import { imageIdOf } from "../../runtime/index.ts";
import { APPLET_SIZES, compileApplet, NotProvableError, setupAppletCircuit } from "../../circuits/index.ts";
import type { EpochWorker } from "../../worker/index.ts";
import { DEFAULT_EPOCH_LENGTH_MS } from "../../device-sdk/index.ts";

export interface AppletListing {
  name: string;
  wasmPath: string;
  manifest: { param?: string; rewardPerUnit: string; epochLengthMs?: number };
}

/**
 * The applet's compiled circuits for every K (set up on first use) as verifier sources to register, or the
 * NotProvableError that says why it has none. A stateful applet's circuits carry its state (issue 18): each source
 * names its state key count, and registerApplet marks the applet stateful (PayoutVault.claimStateful pays it).
 */
export async function compiledVerifiers(o: {
  wasm: Uint8Array;
  hasParam: boolean;
  sizes?: readonly number[];
  log: (m: string) => void;
}): Promise<CompiledVerifierSource[] | NotProvableError> {
  const out: CompiledVerifierSource[] = [];
  for (const k of o.sizes ?? APPLET_SIZES) {
    try {
      const c = await setupAppletCircuit({ wasm: o.wasm, k, hasParam: o.hasParam, stateful: true, log: o.log });
      const stateKeys = c.stateKeys?.length ? { stateKeys: c.stateKeys.length } : {};
      out.push({ k, name: c.name, solidity: readFileSync(c.solidity, "utf8"), ...stateKeys });
    } catch (err) {
      if (err instanceof NotProvableError) return err;
      throw err;
    }
  }
  return out;
}

/**
 * The applet's NotProvableError, or undefined when the compiler expresses it at every K: what a real devnet learns
 * from compiledVerifiers, without circom or a setup (mock proofs, `mfi deploy`'s check before any transaction).
 */
export function provability(o: {
  wasm: Uint8Array;
  hasParam: boolean;
  sizes?: readonly number[];
  /** Compile with the applet's state (PayoutVault.claimStateful carries it); mock proofs cannot (no state input). */
  stateful?: boolean;
}): NotProvableError | undefined {
  for (const k of o.sizes ?? APPLET_SIZES) {
    try {
      compileApplet({ wasm: o.wasm, k, hasParam: o.hasParam, stateful: o.stateful });
    } catch (err) {
      if (err instanceof NotProvableError) return err;
      throw err;
    }
  }
  return undefined;
}

const ZERO = "0x0000000000000000000000000000000000000000";

export async function registerApplets(o: {
  admin: MachinefiClient;
  worker: EpochWorker;
  list: AppletListing[];
  names?: string[];
  log: (m: string) => void;
  fromMs?: number;
  mock?: boolean;
  epochMs?: number;
}) {
  const out: { name: string; imageId: string }[] = [];
  for (const a of o.list) {
    if (o.names && !o.names.includes(a.name)) continue;
    if (!existsSync(a.wasmPath)) {
      // issue 22: one unbuilt applet must not kill the devnet after minutes of setup: skip it and say how to build it
      o.log(`⚠ applet ${a.name} skipped: not built (${a.wasmPath} is missing); run \`mfi build ${a.name}\``);
      continue;
    }
    const wasm = new Uint8Array(readFileSync(a.wasmPath));
    const imageId = imageIdHex(imageIdOf(wasm));
    const param = a.manifest.param === undefined ? undefined : BigInt(a.manifest.param);
    const rewardPerUnit = BigInt(a.manifest.rewardPerUnit);
    let onChain = await o.admin.appletOf(imageId);
    // The circuits are needed by the worker even when the applet is already on L1 (cached: a cache hit is quick).
    // Mock proofs skip the keys, not the provability: they refuse what a real proof refuses (the circuit's witness).
    const compiled = o.mock
      ? (provability({ wasm, hasParam: param !== undefined }) ?? [])
      : await compiledVerifiers({ wasm, hasParam: param !== undefined, log: o.log });
    if (compiled instanceof NotProvableError) {
      o.log(
        `⚠ applet ${a.name} skipped: not provable (${compiled.name}: ${compiled.shortMessage}); it is neither registered nor run`,
      );
      continue;
    }
    if (onChain.owner === ZERO) {
      const epochLengthMs = BigInt(o.epochMs ?? a.manifest.epochLengthMs ?? DEFAULT_EPOCH_LENGTH_MS);
      const genesisMs = o.fromMs === undefined ? undefined : BigInt(o.fromMs) - (BigInt(o.fromMs) % epochLengthMs);
      await o.admin.registerApplet({
        imageId,
        verifier: o.mock ? "mock" : { compiled },
        rewardPerUnit,
        param,
        epochLengthMs,
        genesisMs,
      });
      onChain = await o.admin.appletOf(imageId);
      o.log(
        `applet ${a.name} registered on L1: imageId ${imageId.slice(0, 16)}…, ${o.mock ? "mock verifier" : `compiled circuits K = ${compiled.map((c) => c.k).join(", ")}`}${param !== undefined ? `, param ${param}` : ""}, ${rewardPerUnit} wei per unit, epochs of ${onChain.epochLengthMs} ms from ${new Date(Number(onChain.genesisMs)).toISOString()}`,
      );
    } else {
      o.log(
        `applet ${a.name} already registered (imageId ${imageId.slice(0, 16)}…), epochs of ${onChain.epochLengthMs} ms`,
      );
      if (o.epochMs !== undefined && onChain.epochLengthMs !== BigInt(o.epochMs))
        o.log(
          `⚠ applet ${a.name}: its L1 schedule (${onChain.epochLengthMs} ms epochs) differs from --epoch-ms ${o.epochMs}; the worker follows L1`,
        );
    }
    const schedule = { lengthMs: Number(onChain.epochLengthMs), genesisMs: Number(onChain.genesisMs) };
    await o.worker.addApplet({ imageId, name: a.name, wasm, param, rewardPerUnit, schedule }, o.fromMs);
    out.push({ name: a.name, imageId });
  }
  return out;
}
