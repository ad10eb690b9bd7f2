/** Register every applet in applets/ on L1 (once per imageId) and with the epoch worker. */
import { readFileSync, existsSync } from "node:fs";
import { createHash } from "node:crypto";
import type { MachinefiClient } from "../../contracts/index.ts";
import type { EpochWorker } from "../../gateway/worker/index.ts";
import type { Reducer } from "../../gateway/worker/ports.ts";

export interface AppletListing {
  name: string;
  wasmPath: string;
  manifest: { reducer: string; param?: string; rewardPerUnit: string };
}

const ZERO = "0x0000000000000000000000000000000000000000";

export async function registerApplets(o: { admin: MachinefiClient; worker: EpochWorker; list: AppletListing[]; names?: string[]; log: (m: string) => void; fromMs?: number; mock?: boolean }) {
  const out: { name: string; imageId: string; reducer: string }[] = [];
  for (const a of o.list) {
    if (o.names && !o.names.includes(a.name)) continue;
    if (!existsSync(a.wasmPath)) throw new Error(`applet ${a.name} is not built (${a.wasmPath} is missing): run \`npm run build:applets\``);
    const wasm = new Uint8Array(readFileSync(a.wasmPath));
    const imageId = createHash("sha256").update(wasm).digest("hex");
    const reducer = a.manifest.reducer as Reducer;
    const param = a.manifest.param === undefined ? undefined : BigInt(a.manifest.param);
    const rewardPerUnit = BigInt(a.manifest.rewardPerUnit);
    if (!o.mock && !o.admin.manifest.reducers[reducer]) {
      // No generated verifier for this reducer on this deployment: the applet could never be paid, so leave it out.
      o.log(`⚠ applet ${a.name} skipped: no ${reducer} verifiers deployed (build them: npm run build:circuits -- --circuits readings_${reducer}_16, then redeploy)`);
      continue;
    }
    const onChain = await o.admin.appletOf(imageId);
    if (onChain.owner === ZERO) {
      await o.admin.registerApplet({ imageId, verifier: o.mock ? "mock" : { reducer }, rewardPerUnit, param });
      o.log(`applet ${a.name} registered on L1: imageId ${imageId.slice(0, 16)}…, reducer ${reducer}${param !== undefined ? `(${param})` : ""}, ${rewardPerUnit} wei per unit`);
    } else o.log(`applet ${a.name} already registered (imageId ${imageId.slice(0, 16)}…)`);
    o.worker.addApplet({ imageId, name: a.name, wasm, reducer, param, rewardPerUnit }, o.fromMs);
    out.push({ name: a.name, imageId, reducer });
  }
  return out;
}
