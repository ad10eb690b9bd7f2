/**
 * The batcher's prover port (issue 26): the applet's batch circuit for N devices at K slots (compiled and set up on
 * first use, cached under build/batch-circuits/), each device's chain segment gathered from the store exactly as the
 * single-claim path gathers it (the reading before the epoch, the epoch's readings, the tail up to the first signed
 * reading after it), and one proof in a prover pool process (the native prover when built, as for single claims),
 * warmed like the single-claim pool (the batch key in memory before the first batch).
 */
import {
  BATCH_DEPTH,
  BatchSetupMemoryError,
  EarningsTree,
  ProverPool,
  proveBatch,
  selectSegment,
  setupBatchCircuit,
  type BatchCircuit,
  type BatchProof,
  type ChainReading,
} from "../circuits/index.ts";
import { readFile } from "node:fs/promises";
import type { EpochWindow } from "../device-sdk/index.ts";
import type { VerifyingKeyPoints } from "../contracts/index.ts";
import type { AppletSpec, DeviceRecord, ReadingStore } from "../store/index.ts";

export interface BatchProveArgs {
  applet: AppletSpec;
  epoch: EpochWindow;
  devices: { device: DeviceRecord; readings: ChainReading[] }[];
  /** The applet's earnings tree as the vault's current root commits to it. */
  tree: EarningsTree;
}

export interface BatchProverPort {
  /** Devices per proof (the circuit's N) and slots per device (K). */
  readonly n: number;
  readonly k: number;
  readonly depth: number;
  prove(a: BatchProveArgs): Promise<{ proof: BatchProof; encoded: string }>;
  /**
   * Gets the applet's batch circuit ready before its first batch (the batcher calls it when it learns the applet is
   * batched): set up (cached), its key and witness module in the proving process's memory. Never rejects; a circuit
   * that cannot be set up fails the batch that needs it, with the reason.
   */
  prepare?(applet: AppletSpec): Promise<void>;
  /** The verifying key of the circuit this port proves the applet's batches with (set up first when it is not). */
  verifyingKey?(applet: AppletSpec): Promise<VerifyingKeyPoints>;
  close(): Promise<void>;
}

/**
 * A device's segment for the epoch, or why it cannot be batched: too many slots for K, or no signed reading yet
 * within `maxTrailing` readings after the epoch (`retry`: a chain still being written).
 */
export async function segmentOf(
  store: ReadingStore,
  device: DeviceRecord,
  w: EpochWindow,
  k: number,
  maxTrailing = 200,
): Promise<{ readings: ChainReading[] } | { refused: string; retry: boolean }> {
  const deviceId = device.deviceId;
  const end = w.startMs + w.lengthMs;
  const inside = await store.listReadings({ deviceId, fromTs: w.startMs, toTs: end - 1n, limit: 100_000 });
  const first = inside[0];
  const last = inside[inside.length - 1];
  if (!first || !last) return { refused: "the epoch's readings are gone from the store", retry: false };
  const before = first.seq > 1n ? await store.getReading(deviceId, first.seq - 1n) : undefined;
  const tail = await store.listReadings({ deviceId, fromSeq: last.seq + 1n, limit: maxTrailing });
  const signedAt = tail.findIndex((r) => r.signature !== null && r.ts >= end);
  if (signedAt < 0)
    return tail.length >= maxTrailing
      ? { refused: `no signed reading within ${maxTrailing} readings after the epoch`, retry: false }
      : { refused: "waiting for a signed reading after the epoch", retry: true };
  const readings: ChainReading[] = [...(before ? [before] : []), ...inside, ...tail.slice(0, signedAt + 1)];
  const slots = selectSegment(readings, device.publicKey, w).slots.length;
  if (slots > k)
    return {
      refused: `the segment needs ${slots} slots but the batch circuit has K = ${k} (batched epochs are not paid singly)`,
      retry: false,
    };
  return { readings };
}

export function circuitsBatchProverPort(
  opts: { n: number; k?: number; depth?: number; log?: (m: string) => void } = { n: 8 },
): BatchProverPort {
  const k = opts.k ?? 16;
  const depth = opts.depth ?? BATCH_DEPTH;
  const pool = new ProverPool(1);
  const memo = new Map<string, Promise<BatchCircuit>>();
  const circuitFor = (applet: AppletSpec) => {
    const key = `${applet.imageId}:${applet.param !== undefined}`;
    let c = memo.get(key);
    if (!c) {
      // warmed as the single-claim pool is: the key (172 MB at N=8) read and the witness module compiled once, at
      // the circuit's setup, not inside the first batch's proof
      c = setupBatchCircuit({
        wasm: applet.wasm,
        k,
        n: opts.n,
        depth,
        hasParam: applet.param !== undefined,
        log: opts.log,
      }).then(async (circuit) => {
        await pool.warm([{ zkey: circuit.zkey, wasm: circuit.wasm }]);
        return circuit;
      });
      memo.set(key, c);
      // a setup that lacks memory fails the same way until a restart: kept, so it is not started over
      c.catch((e: unknown) => {
        if (!(e instanceof BatchSetupMemoryError)) memo.delete(key);
      });
    }
    return c;
  };
  return {
    n: opts.n,
    k,
    depth,
    async prove(a) {
      const proof = await proveBatch({
        circuit: await circuitFor(a.applet),
        wasm: a.applet.wasm,
        tree: a.tree,
        epoch: a.epoch,
        devices: a.devices.map((d) => ({ readings: d.readings, publicKey: d.device.publicKey })),
        param: a.applet.param,
        pool,
      });
      // loaded here, not at the top: contracts/batch.ts pulls circomlibjs in (its deployer), which only batching needs
      const { encodeBatchProof } = await import("../contracts/batch.ts");
      return { proof, encoded: encodeBatchProof(proof.proof) };
    },
    prepare: (applet) =>
      circuitFor(applet).then(
        () => undefined,
        () => undefined,
      ),
    verifyingKey: async (applet) =>
      JSON.parse(await readFile((await circuitFor(applet)).vkey, "utf8")) as VerifyingKeyPoints,
    close: () => pool.close(),
  };
}
