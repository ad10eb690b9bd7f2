/**
 * The gateway follows key rotations on L1 (issue 20): real anvil and DeviceRegistry, real SQLite, the hono app.
 * A key the registry revoked or replaced is refused with the problem `device-key-revoked`; the rotated key is
 * accepted; a key L1 does not know is served as before.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDevnet, type Devnet } from "../contracts/fixture.ts";
import { mockRegisterProof, registerSignals, revokeKey, rotateKey, type MachinefiClient } from "../contracts/index.ts";
import { buildJsBackend, type EddsaBackend } from "../device-sdk/index.ts";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  chainKeyDirectory,
  createGateway,
  registryKeyStatus,
  serveGateway,
  storeDirectory,
  type Gateway,
} from "../gateway/index.ts";
import { makeChain, registrationBody, testKey } from "../gateway/testing.ts";
import { openStore } from "../store/index.ts";

let net: Devnet;
let gw: Gateway;
let backend: EddsaBackend;
let reader: ReturnType<typeof registryKeyStatus>;
let admin: MachinefiClient, alice: MachinefiClient;

const post = async (path: string, body: unknown) => {
  const res = await gw.app.request(path, {
    method: "POST",
    body: JSON.stringify(body),
    headers: { "content-type": "application/json" },
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

beforeAll(async () => {
  net = await startDevnet({ clients: 2 });
  [admin, alice] = net.clients as [MachinefiClient, MachinefiClient];
  backend = await buildJsBackend();
  reader = registryKeyStatus({ rpcUrl: net.anvil.rpcUrl, registry: net.manifest.contracts.DeviceRegistry });
  const store = openStore(":memory:");
  gw = await createGateway({
    store,
    backend,
    verifyWorkers: 0,
    maxClockSkewMs: null,
    rateLimit: false,
    // no cache: each batch sees the chain as it is now (the default keeps an answer 5 s)
    directory: chainKeyDirectory(storeDirectory(store), reader, { cacheMs: 0 }),
  });
});
afterAll(async () => {
  await gw?.close();
  reader?.close();
  await net?.stop();
});

describe("gateway ↔ DeviceRegistry keys", () => {
  it("refuses readings of a revoked key (device-key-revoked), accepts the rotated key and keys L1 does not know", async () => {
    const [oldKey, newKey, offChain] = [testKey(backend, 71), testKey(backend, 72), testKey(backend, 73)];
    for (const k of [oldKey, newKey, offChain])
      expect((await post("/v1/devices", registrationBody(backend, k))).status).toBe(201);
    await admin.registerDevicesBatch({ deviceIds: [oldKey.deviceId], owners: alice.address });

    const first = makeChain(backend, oldKey, 2);
    expect((await post(`/v1/devices/${oldKey.deviceId}/readings/batch`, { readings: first.wire })).status).toBe(201);

    const nowMs = BigInt((await admin.provider.getBlock("latest"))!.timestamp) * 1000n;
    await revokeKey(alice, { tokenId: oldKey.deviceId, fromMs: nowMs });
    const next = makeChain(backend, oldKey, 2, { state: first.state });
    const refused = await post(`/v1/devices/${oldKey.deviceId}/readings/batch`, { readings: next.wire });
    expect(refused.status).toBe(403);
    expect(String(refused.body.type)).toMatch(/device-key-revoked$/);
    expect(await gw.store.countReadings(oldKey.deviceId)).toBe(2);

    const proof = mockRegisterProof(
      registerSignals({
        deviceId: newKey.deviceId,
        owner: alice.address,
        chainId: BigInt(alice.chainId),
        registry: alice.manifest.contracts.DeviceRegistry,
      }),
    );
    await rotateKey(alice, { tokenId: oldKey.deviceId, newKeyId: newKey.deviceId, proof });
    const rotated = makeChain(backend, newKey, 2);
    expect((await post(`/v1/devices/${newKey.deviceId}/readings/batch`, { readings: rotated.wire })).status).toBe(201);
    expect((await post(`/v1/devices/${oldKey.deviceId}/readings/batch`, { readings: next.wire })).status).toBe(403);

    const local = makeChain(backend, offChain, 1);
    expect((await post(`/v1/devices/${offChain.deviceId}/readings/batch`, { readings: local.wire })).status).toBe(201);
  });

  it("fails open when the chain cannot be read: the device's readings are stored (the vault still refuses its claims)", async () => {
    const store = openStore(":memory:");
    const dead = registryKeyStatus({ rpcUrl: "http://127.0.0.1:9", registry: net.manifest.contracts.DeviceRegistry });
    const g = await createGateway({
      store,
      backend,
      verifyWorkers: 0,
      maxClockSkewMs: null,
      rateLimit: false,
      directory: chainKeyDirectory(storeDirectory(store), dead, { cacheMs: 0 }),
    });
    try {
      const key = testKey(backend, 74);
      const req = (path: string, body: unknown) =>
        g.app.request(path, {
          method: "POST",
          body: JSON.stringify(body),
          headers: { "content-type": "application/json" },
        });
      expect((await req("/v1/devices", registrationBody(backend, key))).status).toBe(201);
      const chain = makeChain(backend, key, 2);
      expect((await req(`/v1/devices/${key.deviceId}/readings/batch`, { readings: chain.wire })).status).toBe(201);
    } finally {
      await g.close();
      dead.close();
    }
  });

  it("a gateway started with the chain and DeviceRegistry (mfi gateway start --rpc --registry) follows L1's keys", async () => {
    const registry = net.manifest.contracts.DeviceRegistry;
    const chainId = BigInt(net.manifest.chainId);
    const served = await serveGateway({
      dbPath: join(mkdtempSync(join(tmpdir(), "mfi-keys-")), "gw.sqlite"),
      port: 0,
      rpcUrl: net.anvil.rpcUrl,
      chainId,
      registry,
      backend,
      verifyWorkers: 0,
      maxClockSkewMs: null,
      rateLimit: false,
      operatorAuth: false,
      dashboard: false,
      metrics: false,
      logLevel: "silent",
    });
    const send = async (path: string, body: unknown) =>
      (
        await fetch(served.running.url + path, {
          method: "POST",
          body: JSON.stringify(body),
          headers: { "content-type": "application/json" },
        })
      ).status;
    try {
      const key = testKey(backend, 75);
      expect(await send("/v1/devices", registrationBody(backend, key, alice.address, chainId, registry))).toBe(201);
      await admin.registerDevicesBatch({ deviceIds: [key.deviceId], owners: alice.address });
      const first = makeChain(backend, key, 1);
      expect(await send(`/v1/devices/${key.deviceId}/readings/batch`, { readings: first.wire })).toBe(201);
      const nowMs = BigInt((await admin.provider.getBlock("latest"))!.timestamp) * 1000n;
      await revokeKey(alice, { tokenId: key.deviceId, fromMs: nowMs });
      // the gateway keeps L1's answer up to 5 s: a revoked key is refused within that
      const next = makeChain(backend, key, 1, { state: first.state });
      let status = 0;
      for (let i = 0; i < 100 && status !== 403; i++) {
        status = await send(`/v1/devices/${key.deviceId}/readings/batch`, { readings: next.wire });
        if (status !== 403) await new Promise((r) => setTimeout(r, 200));
      }
      expect(status).toBe(403);
    } finally {
      await served.close();
    }
  }, 60_000);
});
