/**
 * Test fixtures for what comes after a run (batches, the dashboard, the batcher): a stored run of a stand-in applet
 * (its outcome's digests are placeholders) with one claim of `output` for the device, as EpochWorker stores a real one,
 * and a device whose chain covers an epoch with such a run.
 */
import {
  genesisHash,
  hashReading,
  packEpoch,
  padValues,
  type PublicKey,
  type SignedReading,
} from "../device-sdk/index.ts";
import type { StoreSet } from "./types.ts";
import type { WorkerStore } from "./worker-types.ts";

type RunArgs = Parameters<WorkerStore["recordRun"]>[0];

export async function recordClaimRun(
  worker: WorkerStore,
  o: { applet: RunArgs["applet"]; deviceId: bigint; epoch: bigint; output: bigint; readings?: RunArgs["readings"] },
): Promise<number> {
  return worker.recordRun({
    applet: o.applet,
    deviceId: o.deviceId,
    epoch: o.epoch,
    readings: o.readings ?? [{ seq: 1n, ts: 0n } as never],
    stateBefore: undefined,
    outcome: {
      inputDigest: "i",
      journal: new Uint8Array([1]),
      journalDigest: "j",
      fuelUsed: 1n,
      stateRoot: "s",
      state: new Uint8Array(),
      claims: [],
    },
    claims: [{ deviceId: o.deviceId, output: o.output }],
    now: 0,
  });
}

/**
 * A device in the store with a hash chain over the epoch [startMs, startMs + 10 000): two readings inside it and one
 * after it, that one signed when `signedAfter` (a stand-in signature: what is checked here is where the chain is
 * signed, not the signature), and the stored run of its claim of `output` over the two. Returns the packed epoch.
 */
export async function storeDeviceEpoch(
  store: StoreSet,
  o: {
    applet: RunArgs["applet"];
    deviceId: bigint;
    publicKey: PublicKey;
    startMs: bigint;
    signedAfter: boolean;
    output: bigint;
  },
): Promise<bigint> {
  const { deviceId } = o;
  const signature = { R8x: 1n, R8y: 2n, S: 3n };
  await store.insertDevice({
    deviceId,
    publicKey: o.publicKey,
    owner: "0x" + "11".repeat(20),
    chainId: 31337n,
    registry: "0x" + "00".repeat(20),
    signature,
    registeredAt: 0,
  });
  let prev = genesisHash(deviceId);
  const readings: SignedReading[] = [500n, 1_000n, 10_500n].map((dt, i) => {
    const r = { deviceId, seq: BigInt(i + 1), ts: o.startMs + dt, values: padValues([5n]), prev };
    prev = hashReading(r);
    return { ...r, hash: prev, signature: o.signedAfter && i === 2 ? signature : null };
  });
  const appended = await store.appendReadings(deviceId, readings, 0);
  if (!appended.ok) throw new Error(`fixture chain of device ${deviceId} refused: ${JSON.stringify(appended)}`);
  const epoch = packEpoch({ startMs: o.startMs, lengthMs: 10_000n });
  await recordClaimRun(store.worker, {
    applet: o.applet,
    deviceId,
    epoch,
    output: o.output,
    readings: readings.slice(0, 2).map((r) => ({ ...r, receivedAt: 0 }) as never),
  });
  return epoch;
}
