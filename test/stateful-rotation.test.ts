/**
 * Issue 18 follow-up: a device that rotates its key keeps its stateful applet's state. PayoutVault keeps the state
 * per device token; the worker keeps its copy under the token too, so the new key's first claim starts from the state
 * the old key's last paid claim left (it was proved from an empty state before: StateMismatch until it failed, and
 * every epoch after). The epoch in which the key was rotated is covered by neither key (the old one's validity ends
 * in it, the new one's starts in it): its claims are not claimable, never proved, never counted as failed.
 * Real anvil (its clock pinned so the rotation lands mid-epoch), uptime-streak's real circuit (K = 16, dev keys
 * cached under build/applet-circuits/), the real runtime and a real SQLite store.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  buildJsBackend,
  genesisHash,
  hashReading,
  loadDeviceKey,
  packEpoch,
  padValues,
  type DeviceKey,
  type EddsaBackend,
  type SignedReading,
} from "../device-sdk/index.ts";
import { Engine } from "../runtime/index.ts";
import { closeProver } from "../circuits/index.ts";
import { setupAppletCircuit, type AppletCircuit } from "../circuits/compile/keys.ts";
import { openStore, type StoreSet } from "../store/index.ts";
import {
  circuitsProvePort,
  contractsChainPort,
  EpochWorker,
  runtimeRunPort,
  type ProverHandle,
  type ProvePort,
  type WorkerEvent,
} from "../worker/index.ts";
import { mockRegisterProof, registerSignals, rotateKey, type MachinefiClient } from "../contracts/index.ts";
import { startDevnet, type Devnet } from "../contracts/fixture.ts";
import { loadBuiltApplet } from "../toolchain/index.ts";
import { eventLine } from "../cli/devnet/events.ts";

const K = 16;
const LEN = 60_000n;

function chainOf(backend: EddsaBackend, key: DeviceKey, points: { ts: bigint; v: bigint }[]): SignedReading[] {
  let prev = genesisHash(key.deviceId);
  return points.map((p, i) => {
    const r = { deviceId: key.deviceId, seq: BigInt(i + 1), ts: p.ts, values: padValues([p.v]), prev };
    prev = hashReading(r);
    return { ...r, hash: prev, signature: backend.sign(key.privateKey, prev) };
  });
}

describe("a stateful applet across a key rotation", { timeout: 900_000 }, () => {
  const wasm = loadBuiltApplet("uptime-streak");
  let net: Devnet;
  let admin: MachinefiClient, alice: MachinefiClient;
  let circuit: AppletCircuit;
  let store: StoreSet | undefined;
  let prover: ProverHandle | undefined;

  beforeAll(async () => {
    [net, circuit] = await Promise.all([
      startDevnet(),
      setupAppletCircuit({ wasm, k: K, hasParam: true, stateful: true, log: (m) => console.log(m) }),
    ]);
    [admin, alice] = net.clients as [MachinefiClient, MachinefiClient];
  }, 900_000);
  afterAll(async () => {
    await prover?.close();
    await closeProver();
    await store?.close();
    await net?.stop();
  });

  it("the new key's claims start from the token's state; the rotation epoch is not claimable and never proved", async () => {
    const backend = await buildJsBackend();
    const [oldKey, newKey] = await Promise.all([
      loadDeviceKey(backend, new Uint8Array(32).fill(185)),
      loadDeviceKey(backend, new Uint8Array(32).fill(186)),
    ]);
    const token = oldKey.deviceId;
    await admin.registerDevicesBatch({ deviceIds: [token], owners: alice.address });

    // Epoch 3 starts at the chain's next minute boundary; the key is rotated 30 s into it.
    const chainNow = BigInt((await admin.provider.getBlock("latest"))!.timestamp) * 1000n;
    const genesis = (chainNow / LEN + 1n) * LEN - 3n * LEN;
    const start = (i: bigint) => genesis + i * LEN;
    const rotatedAt = start(3n) + 30_000n;
    const imageId = circuit.imageId;
    await admin.registerApplet({
      imageId: `0x${imageId}`,
      verifier: { compiled: [{ k: K, name: circuit.name, solidity: readFileSync(circuit.solidity, "utf8") }] },
      rewardPerUnit: 1n,
      param: 0n,
      epochLengthMs: LEN,
      genesisMs: genesis,
      stateKeys: circuit.stateKeys!.length,
    });
    await admin.provider.send("evm_setNextBlockTimestamp", [Number(rotatedAt / 1000n)]);
    const proof = mockRegisterProof(
      registerSignals({
        deviceId: newKey.deviceId,
        owner: alice.address,
        chainId: BigInt(alice.chainId),
        registry: alice.manifest.contracts.DeviceRegistry,
      }),
    );
    await rotateKey(alice, { tokenId: token, newKeyId: newKey.deviceId, proof });
    // every epoch up to 6 ends by chain time
    await admin.provider.send("evm_setNextBlockTimestamp", [Number(start(7n) / 1000n) + 5]);
    await admin.provider.send("evm_mine", []);

    // The old key: up in epochs 1 and 2, up in epoch 3 before the rotation, one reading after it (epoch 4).
    // The new key: up in epoch 3 after the rotation and in epochs 4 and 5, one reading in epoch 6.
    const up = (i: bigint, offsets: number[]) => offsets.map((s) => ({ ts: start(i) + BigInt(s) * 1000n, v: 1n }));
    const oldChain = chainOf(backend, oldKey, [
      ...up(1n, [1, 2, 3]),
      ...up(2n, [1, 2, 3]),
      ...up(3n, [1, 2]),
      ...up(4n, [1]),
    ]);
    const newChain = chainOf(backend, newKey, [
      ...up(3n, [40, 50]),
      ...up(4n, [1, 2, 3]),
      ...up(5n, [1, 2, 3]),
      ...up(6n, [1]),
    ]);
    store = openStore(join(mkdtempSync(join(tmpdir(), "mfi-rotation-")), "db.sqlite"));
    for (const [key, chain] of [
      [oldKey, oldChain],
      [newKey, newChain],
    ] as const) {
      await store.insertDevice({
        deviceId: key.deviceId,
        publicKey: key.publicKey,
        owner: alice.address,
        chainId: 31337n,
        registry: "0x" + "00".repeat(20),
        signature: { R8x: 1n, R8y: 2n, S: 3n },
        registeredAt: 0,
      });
      expect((await store.appendReadings(key.deviceId, chain, 0)).ok).toBe(true);
    }

    prover = circuitsProvePort({ sizes: [K] });
    const real = prover.prove;
    const proved: { epoch: bigint; device: bigint; state: Record<string, string> | undefined }[] = [];
    const prove: ProvePort = async (a) => {
      proved.push({ epoch: (a.epoch.startMs - genesis) / LEN, device: a.device.deviceId, state: a.state });
      return real(a);
    };
    const events: WorkerEvent[] = [];
    const t0 = Date.now();
    const w = new EpochWorker({
      store,
      workerStore: store.worker,
      run: runtimeRunPort(new Engine()),
      prove,
      chain: contractsChainPort(admin),
      epochMs: Number(LEN),
      graceMs: 0,
      sealTimeoutMs: 1000, // the old key's last epochs are never sealed: skipped at once
      stateWaitMs: 60_000, // before the fix the new key's claims waited here, then failed
      now: () => Number(start(8n)) + (Date.now() - t0),
      proverConcurrency: 2,
      onEvent: (e) => events.push(e),
    });
    await w.addApplet(
      {
        imageId,
        name: "uptime-streak",
        wasm,
        param: 0n,
        rewardPerUnit: 1n,
        schedule: { lengthMs: Number(LEN), genesisMs: Number(genesis) },
      },
      Number(start(1n)),
    );
    const deadline = Date.now() + 400_000;
    const settled = (c: { state: string }) => c.state === "paid" || c.state === "failed";
    while (Date.now() < deadline) {
      await w.tick();
      const claims = await store.worker.listClaims(20);
      if (claims.length >= 4 && claims.every(settled)) break;
      await new Promise((r) => setTimeout(r, 300));
    }
    await w.stop();

    const epochOf = (e: bigint) => (e >> 32n) - genesis;
    const claims = (await store.worker.listClaims(20))
      .map((c) => ({ epoch: epochOf(BigInt(c.epoch)) / LEN, key: BigInt(c.device_id), state: c.state, error: c.error }))
      .sort((x, y) => Number(x.epoch - y.epoch));
    // the rotation epoch made no claim under either key; the others were paid, in order, under the key that signed
    expect(claims).toEqual([
      { epoch: 1n, key: oldKey.deviceId, state: "paid", error: null },
      { epoch: 2n, key: oldKey.deviceId, state: "paid", error: null },
      { epoch: 4n, key: newKey.deviceId, state: "paid", error: null },
      { epoch: 5n, key: newKey.deviceId, state: "paid", error: null },
    ]);
    const runs = events.filter((e) => e.type === "run");
    const rotationRuns = runs.filter((e) => e.epoch === packEpoch({ startMs: start(3n), lengthMs: LEN }));
    expect(rotationRuns.map((e) => e.deviceId).sort()).toEqual([oldKey.deviceId, newKey.deviceId].sort());
    for (const r of rotationRuns) {
      expect(r.claims).toBe(0);
      expect(eventLine(r)).toMatch(/^ {2}· run \d+: .*: claim not claimable: /);
      expect(r.unclaimable).toMatch(
        /^not claimable: key 0x.* (was rotated or revoked before the epoch's end|became the token's key after the epoch's start)/,
      );
    }
    expect(proved.some((p) => p.epoch === 3n)).toBe(false);
    expect(events.some((e) => e.type === "claim" && e.state === "failed")).toBe(false);

    // the new key's first claim started from the streak the old key's last paid claim left (2), not from nothing
    const hex = (s: string) => Buffer.from(s).toString("hex");
    const first = proved.find((p) => p.epoch === 4n);
    expect(first?.device).toBe(newKey.deviceId);
    expect(first?.state?.[hex("streak")]).toBe("0200000000000000");
    expect(proved.find((p) => p.epoch === 5n)?.state?.[hex("streak")]).toBe("0300000000000000");
    const onChain = await alice.stateOf({ imageId: `0x${imageId}`, deviceId: token });
    expect(onChain.lastEpoch).toBe(packEpoch({ startMs: start(5n), lengthMs: LEN }));
    expect(await alice.balanceOf()).toBe(12n);
  });
});
