/**
 * The epoch schedule `mfi prove` checks a window against before proving: PayoutVault pays only epochs on the
 * applet's schedule that have ended, so a proof for any other window is CPU spent for nothing.
 * - `--rpc`: AppletRegistry's schedule (length and genesis), and the epoch must have ended: exactly the vault's rule.
 * - `--applet <dir>`: applet.json's epochLengthMs (default one hour). Off chain the genesis is unknown, but it is a
 *   multiple of the length, so length and alignment are checked; "before genesis" only with --rpc. A devnet registers
 *   its own applets with its --epoch-ms instead: use --rpc for those.
 */
import { parseImageId } from "../core/index.ts";
import { InvalidProveOptionsError } from "../circuits/index.ts";
import { DEFAULT_EPOCH_LENGTH_MS, type EpochSchedule } from "../device-sdk/index.ts";
import { loadAppletManifest } from "../toolchain/index.ts";
import { withAppletRegistry } from "./applet-registry.ts";

export interface ScheduleSource {
  schedule: EpochSchedule;
  /** Check that the epoch has ended by this time (ms); only known on chain. */
  nowMs?: bigint;
  /** Where the schedule came from, for messages. */
  source: string;
}

export async function proveSchedule(o: {
  imageId: string;
  applet?: string;
  rpcUrl?: string;
  manifestDir?: string;
}): Promise<ScheduleSource | undefined> {
  if (o.rpcUrl) return onChain({ imageId: o.imageId, rpcUrl: o.rpcUrl, manifestDir: o.manifestDir });
  if (!o.applet) return undefined;
  const m = loadAppletManifest(o.applet);
  const lengthMs = m.epochLengthMs === undefined ? DEFAULT_EPOCH_LENGTH_MS : BigInt(m.epochLengthMs);
  return { schedule: { lengthMs, genesisMs: 0n }, source: `${o.applet}/applet.json (epochs of ${lengthMs} ms)` };
}

async function onChain(o: { imageId: string; rpcUrl: string; manifestDir?: string }): Promise<ScheduleSource> {
  return withAppletRegistry(o, async ({ provider, chainId, registry, applets }) => {
    const imageId = parseImageId(o.imageId);
    const app = (await applets.getFunction("appletOf")(imageId)) as unknown as {
      owner: string;
      epochLengthMs: bigint;
      genesisMs: bigint;
    };
    if (/^0x0{40}$/i.test(app.owner))
      throw new InvalidProveOptionsError(
        `applet ${imageId} is not registered in AppletRegistry ${registry} on chain ${chainId}: the vault would pay no proof for it`,
      );
    const block = await provider.getBlock("latest");
    // The claim is mined in a later block: at least the latest block's time, and not before now on this machine.
    const nowMs = BigInt(Math.max((block?.timestamp ?? 0) * 1000, Date.now()));
    return {
      schedule: { lengthMs: BigInt(app.epochLengthMs), genesisMs: BigInt(app.genesisMs) },
      nowMs,
      source: `AppletRegistry ${registry} on chain ${chainId}`,
    };
  });
}
