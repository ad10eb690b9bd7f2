/** Test fixtures: deterministic device keys and signed chains (device-sdk's JS reference backend signs). */
import {
  buildJsBackend,
  loadDeviceKey,
  genesisHash,
  hashReading,
  padValues,
  packEpoch,
  type DeviceKey,
  type EddsaBackend,
} from "../device-sdk/index.ts";
import type { ChainReading } from "./witness.ts";

export const IMAGE_ID = "0x" + "ab".repeat(32);
export const EPOCH = { startMs: 1_700_000_000_000n, lengthMs: 60_000n };
export const EPOCH_PACKED = packEpoch(EPOCH);

export async function backend(): Promise<EddsaBackend> {
  return buildJsBackend();
}

export async function deviceKey(n: number): Promise<DeviceKey> {
  return loadDeviceKey(await backend(), new Uint8Array(32).fill(n));
}

export interface Point {
  ts: bigint;
  v: bigint;
  /** Sign this reading (default: only the last one of the chain). */
  sign?: boolean;
}

/** A chain from genesis with the given readings; signs the readings marked `sign` and always the last one. */
export async function makeChain(key: DeviceKey, points: Point[]): Promise<ChainReading[]> {
  const b = await backend();
  let prev = genesisHash(key.deviceId);
  return points.map((p, i) => {
    const r = { deviceId: key.deviceId, seq: BigInt(i + 1), ts: p.ts, values: padValues([p.v]), prev };
    const h = hashReading(r);
    prev = h;
    const signed = p.sign ?? i === points.length - 1;
    return { ...r, signature: signed ? b.sign(key.privateKey, h) : null };
  });
}

/** before (ts < start), `inside` readings spaced 1 s apart from the epoch start, one signed reading after the end. */
export function epochPoints(inside: bigint[], opts: { before?: number; after?: number } = {}): Point[] {
  const pts: Point[] = [];
  for (let i = 0; i < (opts.before ?? 1); i++)
    pts.push({ ts: EPOCH.startMs - 5000n + BigInt(i), v: 1000n + BigInt(i) });
  inside.forEach((v, i) => pts.push({ ts: EPOCH.startMs + BigInt(i) * 1000n, v }));
  for (let i = 0; i < (opts.after ?? 1); i++)
    pts.push({ ts: EPOCH.startMs + EPOCH.lengthMs + BigInt(i) * 10n, v: 7n, sign: i === (opts.after ?? 1) - 1 });
  return pts;
}

/** A worst-case segment for K slots: one reading before the epoch, K - 1 inside, one signed after it. */
export function fullSegment(k: number): Point[] {
  const pts: Point[] = [{ ts: EPOCH.startMs - 1n, v: 1n }];
  for (let i = 0; i < k - 1; i++) pts.push({ ts: EPOCH.startMs + BigInt(i) * 100n, v: BigInt(1000 + i) });
  pts.push({ ts: EPOCH.startMs + EPOCH.lengthMs, v: 0n, sign: true });
  return pts;
}
