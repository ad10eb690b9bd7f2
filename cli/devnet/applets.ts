/**
 * Register every applet in applets/ on L1 (once per imageId) and with the epoch worker. The devnet's epoch length
 * (`epochMs`, from --epoch-ms / MFI_EPOCH_MS) overrides applet.json's `epochLengthMs` for the devnet's own applets,
 * and a devnet replaying history (`fromMs`) sets the genesis there so that history is payable. The worker then
 * closes the schedule the chain holds (an applet registered earlier keeps its schedule: it never changes).
 */
import { readFileSync, existsSync } from "node:fs";
import type { MachinefiClient } from "../../contracts/index.ts";
import { imageIdHex } from "../../core/index.ts";
import { imageIdOf } from "../../runtime/index.ts";
import type { EpochWorker, Reducer } from "../../worker/index.ts";
import { DEFAULT_EPOCH_LENGTH_MS } from "../../device-sdk/index.ts";

export interface AppletListing {
  name: string;
  wasmPath: string;
  manifest: { reducer: string; param?: string; rewardPerUnit: string; epochLengthMs?: number };
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
  const out: { name: string; imageId: string; reducer: string }[] = [];
  for (const a of o.list) {
    if (o.names && !o.names.includes(a.name)) continue;
    if (!existsSync(a.wasmPath))
      throw new Error(`applet ${a.name} is not built (${a.wasmPath} is missing): run \`npm run build:applets\``);
    const wasm = new Uint8Array(readFileSync(a.wasmPath));
    const imageId = imageIdHex(imageIdOf(wasm));
    const reducer = a.manifest.reducer as Reducer;
    const param = a.manifest.param === undefined ? undefined : BigInt(a.manifest.param);
    const rewardPerUnit = BigInt(a.manifest.rewardPerUnit);
    if (!o.mock && !o.admin.manifest.reducers[reducer]) {
      // No generated verifier for this reducer on this deployment: the applet could never be paid, so leave it out.
      o.log(
        `⚠ applet ${a.name} skipped: no ${reducer} verifiers deployed (build them: npm run build:circuits -- --circuits readings_${reducer}_16, then redeploy)`,
      );
      continue;
    }
    let onChain = await o.admin.appletOf(imageId);
    if (onChain.owner === ZERO) {
      const epochLengthMs = BigInt(o.epochMs ?? a.manifest.epochLengthMs ?? DEFAULT_EPOCH_LENGTH_MS);
      const genesisMs = o.fromMs === undefined ? undefined : BigInt(o.fromMs) - (BigInt(o.fromMs) % epochLengthMs);
      await o.admin.registerApplet({
        imageId,
        verifier: o.mock ? "mock" : { reducer },
        rewardPerUnit,
        param,
        epochLengthMs,
        genesisMs,
      });
      onChain = await o.admin.appletOf(imageId);
      o.log(
        `applet ${a.name} registered on L1: imageId ${imageId.slice(0, 16)}…, reducer ${reducer}${param !== undefined ? `(${param})` : ""}, ${rewardPerUnit} wei per unit, epochs of ${onChain.epochLengthMs} ms from ${new Date(Number(onChain.genesisMs)).toISOString()}`,
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
    await o.worker.addApplet({ imageId, name: a.name, wasm, reducer, param, rewardPerUnit, schedule }, o.fromMs);
    out.push({ name: a.name, imageId, reducer });
  }
  return out;
}
