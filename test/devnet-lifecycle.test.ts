/**
 * The devnet's device lifecycle (issue 20) on real anvil, a real gateway and a simulated fleet: the first device's
 * token is sold (ERC-721 transfer from its owner) and the second device's key is rotated with a proof of key; the
 * fleet keeps posting under the new key, the gateway (following DeviceRegistry) refuses the old key, and running the
 * lifecycle again changes nothing; the dashboard shows the buyer as the owner and the old key as revoked.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../cli/config.ts";
import { startDevnet, type Devnet } from "../cli/devnet/devnet.ts";
import { runDeviceLifecycle } from "../cli/devnet/lifecycle.ts";
import { keyOf, ownerOf } from "../contracts/index.ts";
import { createDeviceClient, GatewayRejectedError, memoryStorage } from "../device-sdk/index.ts";
import { waitFor } from "./helpers.ts";

let net: Devnet;
beforeAll(async () => {
  net = await startDevnet({
    config: loadConfig({ env: {}, overrides: { devices: 2, simulate: true } }),
    startWorker: false,
    applets: [],
    mockProofs: true,
  });
}, 300_000);
afterAll(async () => {
  await net?.stop();
});

describe("devnet device lifecycle", () => {
  it("sells one device, rotates another's key; the old key is refused, the new one stored; a second run is a no-op", async () => {
    const fleet = net.fleet!;
    const [sold, rotated] = fleet.devices as [(typeof fleet.devices)[0], (typeof fleet.devices)[0]];
    const soldToken = sold.key.deviceId;
    const oldKey = rotated.key;
    expect(await ownerOf(net.admin, soldToken)).toBe(net.owners[0]);
    const lines: string[] = [];
    const args = {
      fleet,
      backend: net.backend,
      rpcUrl: net.rpcUrl,
      manifest: net.manifest,
      ownerKeys: net.keys.slice(2, 6),
      log: (m: string) => lines.push(m),
    };
    const r = await runDeviceLifecycle(args);

    expect(r.transferred).toEqual({ tokenId: soldToken, from: net.owners[0], to: net.owners[1] });
    expect(await ownerOf(net.admin, soldToken)).toBe(net.owners[1]);
    expect(r.rotated?.tokenId).toBe(oldKey.deviceId);
    expect(r.rotated?.newKeyId).not.toBe(oldKey.deviceId);
    expect((await keyOf(net.admin, oldKey.deviceId)).keyId).toBe(r.rotated!.newKeyId);
    expect(rotated.key.deviceId).toBe(r.rotated!.newKeyId);
    expect(lines.join("\n")).toMatch(/sold[\s\S]*rotated its key/);

    // the fleet posts under the new key
    await waitFor(async () => (await net.store.countReadings(r.rotated!.newKeyId)) > 0, 30_000);
    // the gateway follows DeviceRegistry (answers are kept up to 5 s): the old key is refused
    const old = createDeviceClient({
      url: net.gatewayUrl,
      key: oldKey,
      backend: net.backend,
      storage: memoryStorage(),
    });
    let refusal: unknown;
    await waitFor(async () => {
      refusal = await old.send({ ts: Date.now(), values: [1] }).then(
        () => undefined,
        (e: unknown) => e,
      );
      return refusal instanceof GatewayRejectedError && /device-key-revoked/.test(String(refusal.problem?.type));
    }, 30_000);
    expect(refusal).toBeInstanceOf(GatewayRejectedError);

    // the dashboard shows the sale (the token's owner on L1) and the rotated-out key
    type Dash = { devices: { deviceId: string; owner: string; key?: string }[] };
    let dash: Dash | undefined;
    const row = (id: bigint) => dash?.devices.find((x) => x.deviceId === id.toString());
    await waitFor(async () => {
      dash = (await (await fetch(`${net.gatewayUrl}/dashboard.json`)).json()) as Dash;
      return row(soldToken)?.owner === net.owners[1] && row(oldKey.deviceId)?.key === "revoked";
    }, 30_000);
    expect(row(soldToken)?.key).toBeUndefined();
    expect(row(r.rotated!.newKeyId)?.key).toBeUndefined();

    expect(await runDeviceLifecycle(args)).toEqual({});
    expect(await ownerOf(net.admin, soldToken)).toBe(net.owners[1]);
  }, 120_000);
});
