/**
 * The devnet's device lifecycle (issue 20), so a developer sees devices behave as assets: once the first epoch has
 * been paid, the first simulated device's token is sold (ERC-721 safeTransferFrom from its owner to another
 * account: the next epochs pay the buyer) and the second device's key is rotated (a fresh key registered at the
 * gateway, proven and rotated on DeviceRegistry by its owner: the gateway then refuses the old key, the new one earns).
 * Each step is skipped when already done (a devnet restarted with --state).
 */
import { createMachinefiClient, keyOf, ownerOf, rotateKey, type DeploymentManifest } from "../../contracts/index.ts";
import { generateDeviceKey, type EddsaBackend } from "../../device-sdk/index.ts";
import { proofOfKey } from "../key-proof.ts";
import type { Fleet } from "./fleet.ts";

export interface LifecycleOptions {
  fleet: Fleet;
  backend: EddsaBackend;
  rpcUrl: string;
  manifest: DeploymentManifest;
  /** Private keys of the fleet's owners, in the order of the fleet's `owners` (device i is owned by owners[i % n]). */
  ownerKeys: string[];
  log: (m: string) => void;
}

export interface LifecycleResult {
  transferred?: { tokenId: bigint; from: string; to: string };
  rotated?: { tokenId: bigint; oldKeyId: bigint; newKeyId: bigint };
}

export async function runDeviceLifecycle(o: LifecycleOptions): Promise<LifecycleResult> {
  const out: LifecycleResult = {};
  const clients = o.ownerKeys.map((privateKey) =>
    createMachinefiClient({ rpcUrl: o.rpcUrl, privateKey, manifest: o.manifest }),
  );
  const byAddress = new Map(clients.map((c) => [c.address.toLowerCase(), c]));
  try {
    const [sold, rotated] = o.fleet.devices;
    if (sold && clients.length > 1) {
      const tokenId = sold.key.deviceId;
      const from = await ownerOf(clients[0]!, tokenId);
      const seller = byAddress.get(from.toLowerCase());
      const buyer = clients.find((c) => c !== seller);
      if (seller && buyer && from.toLowerCase() === sold.owner.toLowerCase()) {
        await seller.transferDevice({ deviceId: tokenId, to: buyer.address });
        out.transferred = { tokenId, from, to: buyer.address };
        o.log(
          `device ${short(tokenId)} sold: token transferred ${short(from)} → ${short(buyer.address)} (next epochs pay the buyer)`,
        );
      }
    }
    if (rotated) {
      // the token was minted with the device's first key: its id is that key's id
      const tokenId = rotated.key.deviceId;
      const owner = await ownerOf(clients[0]!, tokenId).catch(() => undefined);
      const client = owner && byAddress.get(owner.toLowerCase());
      if (client && (await keyOf(client, tokenId)).keyId === rotated.key.deviceId) {
        const key = generateDeviceKey(o.backend);
        const proof = await proofOfKey(client, o.backend, key, owner);
        // the gateway learns the new key first, so no reading is refused in between
        await o.fleet.replaceKey(o.fleet.devices.indexOf(rotated), key);
        await rotateKey(client, { tokenId, newKeyId: key.deviceId, proof });
        out.rotated = { tokenId, oldKeyId: tokenId, newKeyId: key.deviceId };
        o.log(`device ${short(tokenId)} rotated its key to ${short(key.deviceId)} (the old key no longer earns)`);
      }
    }
  } finally {
    for (const c of clients) c.close();
  }
  return out;
}

const short = (x: bigint | string) => {
  const s = typeof x === "bigint" ? `0x${x.toString(16)}` : x;
  return s.length > 12 ? `${s.slice(0, 8)}…${s.slice(-4)}` : s;
};
