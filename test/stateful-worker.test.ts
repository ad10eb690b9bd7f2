/**
 * Issue 18, stateful applets through the worker: uptime-streak (state committed, K = 16, dev keys cached under
 * build/applet-circuits/) run by the real runtime over a device's signed readings in a real SQLite store, each claim
 * proved from the state the device's previous run left (the run's stored state_before), and paid on anvil through
 * PayoutVault.claimStateful. Epoch 1's proof is held back until epoch 2's is made, so epoch 2's claim is ready first:
 * the submitter must wait for epoch 1 to be paid (its stateOut is epoch 2's stateIn) instead of sending it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { imageIdHex } from "../core/index.ts";
import {
  buildJsBackend,
  genesisHash,
  hashReading,
  loadDeviceKey,
  packEpoch,
  padValues,
  type SignedReading,
} from "../device-sdk/index.ts";
import { Engine, imageIdOf } from "../runtime/index.ts";
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
import type { MachinefiClient } from "../contracts/index.ts";
import { startDevnet, TEST_GENESIS_MS, type Devnet } from "../contracts/fixture.ts";
import { loadBuiltApplet } from "../toolchain/index.ts";

const K = 16;
const LEN = 60_000n;
const start = (i: bigint) => TEST_GENESIS_MS + i * LEN;

describe("the worker proves and pays a stateful applet in epoch order", { timeout: 900_000 }, () => {
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

  it("three epochs: each proved from the previous run's state, sent after the previous one is paid", async () => {
    const backend = await buildJsBackend();
    const key = await loadDeviceKey(backend, new Uint8Array(32).fill(183));
    await admin.registerDevicesBatch({ deviceIds: [key.deviceId], owners: alice.address });
    const imageId = circuit.imageId;
    await admin.registerApplet({
      imageId: `0x${imageId}`,
      verifier: { compiled: [{ k: K, name: circuit.name, solidity: readFileSync(circuit.solidity, "utf8") }] },
      rewardPerUnit: 1n,
      param: 0n,
      epochLengthMs: LEN,
      genesisMs: TEST_GENESIS_MS,
      stateKeys: circuit.stateKeys!.length,
    });

    // Epochs 1..3: up reports (1) at +1 s, +2 s, +3 s (epoch 2 also has a down report, 0); one reading after the last.
    const points: { ts: bigint; v: bigint }[] = [];
    for (const i of [1n, 2n, 3n])
      for (const [j, v] of (i === 2n ? [1n, 0n, 1n] : [1n, 1n, 1n]).entries())
        points.push({ ts: start(i) + BigInt(j + 1) * 1000n, v });
    points.push({ ts: start(4n) + 1000n, v: 1n });
    let prev = genesisHash(key.deviceId);
    const readings: SignedReading[] = points.map((p, i) => {
      const r = { deviceId: key.deviceId, seq: BigInt(i + 1), ts: p.ts, values: padValues([p.v]), prev };
      prev = hashReading(r);
      return { ...r, hash: prev, signature: backend.sign(key.privateKey, prev) };
    });

    store = openStore(join(mkdtempSync(join(tmpdir(), "mfi-stateful-")), "db.sqlite"));
    await store.insertDevice({
      deviceId: key.deviceId,
      publicKey: key.publicKey,
      owner: alice.address,
      chainId: 31337n,
      registry: "0x" + "00".repeat(20),
      signature: { R8x: 1n, R8y: 2n, S: 3n },
      registeredAt: 0,
    });
    expect((await store.appendReadings(key.deviceId, readings, 0)).ok).toBe(true);

    prover = circuitsProvePort({ sizes: [K] });
    const real = prover.prove;
    // Epoch 1's proof starts only once epoch 2's is made: epoch 2's claim is proved first.
    let secondProved!: () => void;
    const second = new Promise<void>((r) => (secondProved = r));
    const states: (Record<string, string> | undefined)[] = [];
    const prove: ProvePort = async (a) => {
      states[Number((a.epoch.startMs - TEST_GENESIS_MS) / LEN)] = a.state;
      if (a.epoch.startMs === start(1n)) await second;
      const p = await real(a);
      if (a.epoch.startMs === start(2n)) secondProved();
      return p;
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
      // a clock that runs (from well after epoch 3): a claim waiting for its turn is deferred by a second
      now: () => Number(start(6n)) + (Date.now() - t0),
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
        schedule: { lengthMs: Number(LEN), genesisMs: Number(TEST_GENESIS_MS) },
      },
      Number(start(1n)),
    );
    const deadline = Date.now() + 300_000;
    while (Date.now() < deadline) {
      await w.tick();
      const claims = await store.worker.listClaims(10);
      if (claims.length === 3 && claims.every((c) => c.state === "paid" || c.state === "failed")) break;
      await new Promise((r) => setTimeout(r, 300));
    }
    await w.stop();

    const claims = (await store.worker.listClaims(10)).sort((x, y) => Number(BigInt(x.epoch) - BigInt(y.epoch)));
    expect(claims.map((c) => [c.output, c.state])).toEqual([
      ["3", "paid"],
      ["2", "paid"],
      ["3", "paid"],
    ]);
    // Proved from the state each previous run left: none, then streak 1, then a streak broken by epoch 2's down report.
    const hex = (s: string) => Buffer.from(s).toString("hex");
    expect(states[1]).toBeUndefined();
    expect(states[2]?.[hex("streak")]).toBe("0100000000000000");
    expect(states[3]?.[hex("streak")]).toBe("0000000000000000");
    // Epoch 2's claim was proved before epoch 1's, yet paid after it (the vault would have refused it first).
    const provedAt = (e: bigint) =>
      events.findIndex((x) => x.type === "claim" && x.state === "proved" && claimEpoch(x) === e);
    const claimEpoch = (x: WorkerEvent) =>
      x.type === "claim" ? BigInt(claims.find((c) => c.id === x.claimId)?.epoch ?? -1) : -1n;
    expect(provedAt(packEpoch({ startMs: start(2n), lengthMs: LEN }))).toBeLessThan(
      provedAt(packEpoch({ startMs: start(1n), lengthMs: LEN })),
    );
    const paidOrder = events.filter((x) => x.type === "claim" && x.state === "paid").map(claimEpoch);
    expect(paidOrder).toEqual([1n, 2n, 3n].map((i) => packEpoch({ startMs: start(i), lengthMs: LEN })));
    expect(events.some((x) => x.type === "claim" && x.state === "failed")).toBe(false);

    // The chain holds epoch 3's stateOut: the next claim must start from it.
    const onChain = await alice.stateOf({ imageId: `0x${imageId}`, deviceId: key.deviceId });
    const receipt = JSON.parse(claims[2]!.receipt!) as { claim: { stateOut: string } };
    expect(onChain).toEqual({
      state: BigInt(receipt.claim.stateOut),
      lastEpoch: packEpoch({ startMs: start(3n), lengthMs: LEN }),
    });
    expect(await alice.balanceOf()).toBe(8n);
  });
});
