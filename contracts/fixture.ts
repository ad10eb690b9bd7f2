/**
 * Test and bench support: a fresh anvil with everything deployed (manifest in a temp dir, so parallel test files
 * never share `.mfi/`), and one client per funded account. Not part of the public surface.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { parseImageId, type ImageId } from "../core/index.ts";
import { startAnvil, type Anvil } from "./anvil.ts";
import { createMachinefiClient, type MachinefiClient } from "./client.ts";
import { deployAll, type DeploymentManifest } from "./deploy.ts";
import { SNARK_FIELD } from "../device-sdk/index.ts";
import { genesisHash, hashReading, packEpoch, padValues, type EddsaBackend } from "../device-sdk/index.ts";
import type { ChainReading } from "../circuits/index.ts";
import { claimSignals, mockClaimProof, mockRegisterProof, registerSignals } from "./proof.ts";

export interface Devnet {
  anvil: Anvil;
  manifest: DeploymentManifest;
  /** clients[0] is the deployer (admin, registrar, manufacturer); others are plain accounts. */
  clients: MachinefiClient[];
  stop(): Promise<void>;
}

export async function startDevnet(
  opts: { clients?: number; stepsTracing?: boolean; mockRegistration?: boolean } = {},
): Promise<Devnet> {
  const anvil = await startAnvil({ stepsTracing: opts.stepsTracing });
  const dir = mkdtempSync(join(tmpdir(), "mfi-deploy-"));
  try {
    // MockVerifier registrations keep these tests independent of the register circuit (circuits-proof.test.ts
    // covers the generated register verifier)
    const manifest = await deployAll({
      rpcUrl: anvil.rpcUrl,
      privateKey: anvil.accounts[0]!,
      manifestDir: dir,
      mockRegistration: opts.mockRegistration ?? true,
    });
    const clients = anvil.accounts
      .slice(0, opts.clients ?? 4)
      .map((privateKey) => createMachinefiClient({ rpcUrl: anvil.rpcUrl, privateKey, manifest }));
    return {
      anvil,
      manifest,
      clients,
      async stop() {
        for (const c of clients) c.close();
        await anvil.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await anvil.stop();
    throw err;
  }
}

export function randomImageId(): ImageId {
  return parseImageId(randomBytes(32));
}

export function randomDeviceId(): bigint {
  return BigInt("0x" + randomBytes(32).toString("hex")) % SNARK_FIELD;
}

/** Registers a device to `client`'s address with a MockVerifier registration proof. */
export async function registerMockDevice(client: MachinefiClient, deviceId = randomDeviceId()): Promise<bigint> {
  const signals = registerSignals({
    deviceId,
    owner: client.address,
    chainId: BigInt(client.chainId),
    registry: client.manifest.contracts.DeviceRegistry,
  });
  await client.registerDevice({ deviceId, proof: mockRegisterProof(signals) });
  return deviceId;
}

/** Genesis tests register applets with (via `genesisMs`): long past, so the schedule's early epochs have ended. */
export const TEST_GENESIS_MS = 1_764_000_000_000n;
export const HOUR_MS = 3_600_000n;

/** The packed epoch number `i` of a schedule (default: one-hour epochs from TEST_GENESIS_MS): on it, and ended. */
export function scheduledEpoch(i: bigint, s: { genesisMs?: bigint; lengthMs?: bigint } = {}): bigint {
  const lengthMs = s.lengthMs ?? HOUR_MS;
  return packEpoch({ startMs: (s.genesisMs ?? TEST_GENESIS_MS) + i * lengthMs, lengthMs });
}

/** A claim with a MockVerifier proof bound to exactly these values. */
export function mockClaim(v: { imageId: string; deviceId: bigint; epoch: bigint; output: bigint; param?: bigint }) {
  return {
    imageId: v.imageId,
    deviceId: v.deviceId,
    epoch: v.epoch,
    output: v.output,
    proof: mockClaimProof(claimSignals(v)),
  };
}

/**
 * A signed chain around one epoch: a reading before it, `inside` readings 1 s apart from its start, and one after
 * its end; only the last reading is signed (one signature vouches for the chain behind it).
 */
export function signedEpochChain(o: {
  backend: EddsaBackend;
  key: { deviceId: bigint; privateKey: Uint8Array };
  epoch: { startMs: bigint; lengthMs: bigint };
  inside: bigint[];
}): ChainReading[] {
  const points = [
    { ts: o.epoch.startMs - 5_000n, v: 9n },
    ...o.inside.map((v, i) => ({ ts: o.epoch.startMs + BigInt(i) * 1_000n, v })),
    { ts: o.epoch.startMs + o.epoch.lengthMs + 10n, v: 1n },
  ];
  let prev = genesisHash(o.key.deviceId);
  return points.map((p, i) => {
    const r = { deviceId: o.key.deviceId, seq: BigInt(i + 1), ts: p.ts, values: padValues([p.v]), prev };
    prev = hashReading(r);
    return { ...r, signature: i === points.length - 1 ? o.backend.sign(o.key.privateKey, prev) : null };
  });
}
