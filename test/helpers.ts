/** Shared helpers for end-to-end tests. */
import wabtInit from "wabt";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { createDeviceClient, generateDeviceKey, type DeviceClient, type DeviceKey } from "../device-sdk/index.ts";
import { loadConfig } from "../cli/config.ts";
import { startDevnet, type Devnet } from "../cli/devnet/devnet.ts";
import { foldReducer } from "../core/index.ts";

export async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs: number, pollMs = 100): Promise<void> {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/** The claim each tier-1 reducer makes over values[0] of an epoch's readings, computed without the applet. */
export function expectedOutput(reducer: string, param: bigint | undefined, values: bigint[]): bigint {
  if (reducer !== "sum" && reducer !== "count_above" && reducer !== "max")
    throw new Error(`unknown reducer ${reducer}`);
  return foldReducer(reducer, param, values);
}

let trap: Uint8Array | undefined;
const wabt = await wabtInit();
/** A valid applet that loops forever: it must end in Trap.OutOfFuel. */
export function trapAppletWasm(): Uint8Array {
  if (trap) return trap;
  const m = wabt.parseWat(
    "trap.wat",
    `(module (memory (export "memory") 1 1) (func (export "mfi_main") (loop $l (br $l))))`,
  );
  trap = new Uint8Array(m.toBinary({}).buffer);
  return trap;
}

/** The real `mfi` binary. */
export const mfiBin = join(import.meta.dirname, "..", "cli", "bin.mjs");

/** Run `mfi …` to completion; never throws on a non-zero exit. */
export function mfi(
  args: string[],
  o: { cwd?: string; env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [mfiBin, ...args],
      { cwd: o.cwd, env: { ...process.env, ...o.env }, maxBuffer: 1 << 24, timeout: o.timeoutMs ?? 240_000 },
      (err, stdout, stderr) => {
        resolve({
          code: err ? (typeof (err as { code?: unknown }).code === "number" ? (err as { code: number }).code : 1) : 0,
          stdout,
          stderr,
        });
      },
    );
  });
}

export interface HistoricalDevnet {
  net: Devnet;
  /** Start of the first epoch the worker closes: an hour ago, on an epoch boundary. */
  base: number;
  devices: { key: DeviceKey; client: DeviceClient }[];
}

/**
 * `n` new devices (signing the last reading of each batch), registered at the gateway and on L1 in one manufacturer
 * batch; device i is owned by `owner(i)`.
 */
export async function registerDevices(
  net: Devnet,
  n: number,
  owner: (i: number) => string,
): Promise<{ key: DeviceKey; client: DeviceClient }[]> {
  const devices: { key: DeviceKey; client: DeviceClient }[] = [];
  for (let i = 0; i < n; i++) {
    const key = generateDeviceKey(net.backend);
    const client = createDeviceClient({ url: net.gatewayUrl, key, backend: net.backend, signMode: "last" });
    await client.register({ owner: owner(i), chainId: net.chainId, registry: net.manifest.contracts.DeviceRegistry });
    devices.push({ key, client });
  }
  if (n)
    await net.admin.registerDevicesBatch({
      deviceIds: devices.map((d) => d.key.deviceId),
      owners: devices.map((_, i) => owner(i)),
    });
  return devices;
}

/**
 * A devnet for posting historical readings (epochs long closed, so no waiting): no fleet, no grace, any timestamp,
 * no rate limit, the worker not started (start it with net.worker.start once the readings are in). `devices` devices
 * are registered at the gateway and on L1 (one manufacturer batch), device i owned by net.owners[owner(i)].
 */
export async function startHistoricalDevnet(o: {
  epochMs: number;
  devices: number;
  owner?: (i: number) => number;
  applets?: string[];
  mockProofs?: boolean;
  proverConcurrency?: number;
}): Promise<HistoricalDevnet> {
  const base = Math.floor((Date.now() - 3_600_000) / o.epochMs) * o.epochMs;
  const net = await startDevnet({
    config: loadConfig({
      env: {},
      overrides: {
        devices: 0,
        epochMs: o.epochMs,
        epochGraceMs: 0,
        simulate: false,
        ...(o.proverConcurrency ? { proverConcurrency: o.proverConcurrency } : {}),
      },
    }),
    fromMs: base,
    gateway: { maxClockSkewMs: null, rateLimit: false },
    startWorker: false,
    applets: o.applets,
    mockProofs: o.mockProofs,
  });
  try {
    const devices = await registerDevices(
      net,
      o.devices,
      (i) => net.owners[o.owner ? o.owner(i) : i % net.owners.length]!,
    );
    return { net, base, devices };
  } catch (err) {
    await net.stop();
    throw err;
  }
}
