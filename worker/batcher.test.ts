/**
 * Batch claims through the real worker (issue 26): real anvil, AppletRegistry switching energy-sum to a BatchVault,
 * real runs of its Wasm and real Groth16 proofs of the batch circuit at N = 2 (keys cached under build/batch-
 * circuits/ as in contracts/batch-vault.test.ts). Two devices of one epoch go into one batch; the batch proved while
 * the vault could not take it (no verifier yet) is submitted by the next worker on the same store, once; a device
 * whose data came late is credited by a later batch of the same epoch after the deadline; the vault's root is the
 * tree of the worker's credited batches, a withdrawal pays what the device earned, a batch sent again is refused.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { promisify } from "node:util";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildJsBackend, hashReading, loadDeviceKey, type DeviceKey, type EddsaBackend } from "../device-sdk/index.ts";
import { closeProver, EarningsTree, encodeCredits, type ChainReading } from "../circuits/index.ts";
import { setupAppletCircuit, type AppletCircuit } from "../circuits/compile/keys.ts";
import { setupBatchCircuit, type BatchCircuit } from "../circuits/batch/circuit.ts";
import type { MachinefiClient } from "../contracts/index.ts";
import { batchVaultClient, deployBatchVault, type BatchVaultClient } from "../contracts/batch.ts";
import { signedEpochChain, startDevnet, TEST_GENESIS_MS, type Devnet } from "../contracts/fixture.ts";
import { reverted } from "../contracts/expect-revert.ts";
import { openStore, type StoreSet } from "../store/index.ts";
import { loadBuiltApplet } from "../toolchain/index.ts";
import { contractsBatchChainPort } from "./batch-chain.ts";
import type { BatchEvent } from "./batcher.ts";
import { startWorker, type RunningWorker } from "./start.ts";

const K = 16;
const N = 2;
const DEPTH = 20;
const LENGTH = 10_000n;
const REWARD = 2n;

async function until<T>(what: string, f: () => Promise<T | undefined | false>, ms = 240_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe("the worker credits an applet's claims in batches", { timeout: 900_000 }, () => {
  const wasm = loadBuiltApplet("energy-sum");
  let net: Devnet;
  let admin: MachinefiClient;
  let single: AppletCircuit, batch: BatchCircuit;
  let backend: EddsaBackend;
  let keys: DeviceKey[];
  let vault: BatchVaultClient;
  let imageId: string;
  let store: StoreSet;
  let dir: string;
  const events: BatchEvent[] = [];

  beforeAll(async () => {
    const log = (m: string) => console.log(m);
    [net, single, batch] = await Promise.all([
      startDevnet({ clients: 4 }),
      setupAppletCircuit({ wasm, k: K, log }),
      setupBatchCircuit({ wasm, k: K, n: N, depth: DEPTH, log }),
    ]);
    admin = net.clients[0]!;
    backend = await buildJsBackend();
    keys = await Promise.all([61, 62, 63].map((n) => loadDeviceKey(backend, new Uint8Array(32).fill(n))));
    await admin.registerDevicesBatch({
      deviceIds: keys.map((k) => k.deviceId),
      owners: net.clients.slice(1, 4).map((c) => c.address),
    });
    imageId = `0x${single.imageId}`;
    await admin.registerApplet({
      imageId,
      verifier: { compiled: [{ k: K, name: single.name, solidity: readFileSync(single.solidity, "utf8") }] },
      rewardPerUnit: REWARD,
      epochLengthMs: LENGTH,
      genesisMs: TEST_GENESIS_MS,
    });
    const address = await deployBatchVault({
      rpcUrl: net.anvil.rpcUrl,
      privateKey: net.anvil.accounts[0]!,
      manifest: net.manifest,
      depth: DEPTH,
    });
    vault = batchVaultClient({
      rpcUrl: net.anvil.rpcUrl,
      privateKey: net.anvil.accounts[0]!,
      manifest: net.manifest,
      address,
    });
    await vault.enableBatches(imageId);
    dir = mkdtempSync(join(tmpdir(), "mfi-batcher-"));
    store = openStore(join(dir, "db.sqlite"));
    for (const k of keys)
      await store.insertDevice({
        deviceId: k.deviceId,
        publicKey: k.publicKey,
        owner: admin.address,
        chainId: 31337n,
        registry: net.manifest.contracts.DeviceRegistry,
        signature: { R8x: 1n, R8y: 2n, S: 3n },
        registeredAt: 0,
      });
  }, 900_000);
  afterAll(async () => {
    vault?.close();
    await closeProver();
    await store?.close();
    await net?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const worker = (): RunningWorker =>
    startWorker({
      store,
      workerStore: store.worker,
      client: admin,
      epochMs: Number(LENGTH),
      graceMs: 500,
      sealTimeoutMs: 600_000,
      autostart: false,
      batch: {
        vault: vault.address,
        size: N,
        deadlineMs: 2_000,
        batches: store.batches!,
        onEvent: (e) => events.push(e),
      },
    });
  const append = async (readings: ChainReading[]) => {
    const r = await store.appendReadings(
      readings[0]!.deviceId,
      readings.map((x) => ({ ...x, hash: hashReading(x), signature: x.signature ?? null })),
      Date.now(),
    );
    expect(r.ok).toBe(true);
  };

  it("batches two devices, submits after a restart once, credits a late device in a later batch", async () => {
    // the epoch running at the switch is the first batched one
    const { fromMs: startMs } = await contractsBatchChainPort(admin, vault.address).batchVaultOf(imageId);
    expect((startMs - TEST_GENESIS_MS) % LENGTH).toBe(0n);
    const epoch = { startMs, lengthMs: LENGTH };
    const chains = [
      signedEpochChain({ backend, key: keys[0]!, epoch, inside: [5n, 7n, 11n] }),
      signedEpochChain({ backend, key: keys[1]!, epoch, inside: [100n, 1n] }),
      signedEpochChain({ backend, key: keys[2]!, epoch, inside: [3n] }),
    ];
    await append(chains[0]!);
    await append(chains[1]!);
    // C's reading after the epoch (the signed one that seals it) comes late
    await append(chains[2]!.slice(0, -1));

    // 1. no batch verifier yet: the batch of A and B is proved, its submission refused, and it stays proved
    const w1 = worker();
    await w1.worker.addApplet(
      {
        imageId,
        name: "energy-sum",
        wasm,
        rewardPerUnit: REWARD,
        schedule: { lengthMs: Number(LENGTH), genesisMs: Number(TEST_GENESIS_MS) },
      },
      Number(startMs),
    );
    w1.start();
    await until("a proved batch whose submission failed", async () =>
      events.some((e) => e.type === "batch" && e.state === "proved" && !!e.detail?.startsWith("submission failed")),
    );
    await w1.stop();
    const [b1] = await store.batches!.listBatches();
    expect(b1).toMatchObject({ state: "proved", devices: 2, n: N, tx_hash: null });
    // none of the applet's claims went the single-claim way
    expect((await store.worker.listClaims()).every((c) => c.state === "pending" && c.calldata === null)).toBe(true);

    // 2. the verifier is set; a new worker on the same store submits the proved batch (not a new one)
    await vault.setBatchVerifier({
      imageId,
      n: N,
      verifier: { name: batch.name, solidity: readFileSync(batch.solidity, "utf8") },
    });
    const w2 = worker();
    w2.start();
    try {
      await until("batch 1 credited", async () => (await store.batches!.getBatch(b1!.id))?.state === "credited");
      const credited = (await store.batches!.getBatch(b1!.id))!;
      expect(credited.tx_hash).toMatch(/^0x[0-9a-f]{64}$/);
      expect(await vault.rootOf(imageId)).toBe(BigInt(credited.new_root!));
      const paid = (await store.worker.listClaims()).filter((c) => c.state === "paid");
      expect(paid.map((c) => [c.device_id, c.reward]).sort()).toEqual(
        [
          [keys[0]!.deviceId.toString(), "46"],
          [keys[1]!.deviceId.toString(), "202"],
        ].sort(),
      );

      // 3. C's sealing reading arrives: its claim waits for the deadline, then a batch of one for the same epoch
      await append(chains[2]!.slice(-1));
      await until("the late device's batch credited", async () =>
        (await store.batches!.listBatches()).some((b) => b.id !== b1!.id && b.state === "credited"),
      );
    } finally {
      await w2.stop();
    }
    const all = await store.batches!.listBatches();
    expect(all.filter((b) => b.state === "credited").map((b) => [b.epoch, b.devices])).toEqual([
      [credited0(all).epoch, 1],
      [credited0(all).epoch, 2],
    ]);
    expect((await store.worker.listClaims()).map((c) => c.state)).toEqual(["paid", "paid", "paid"]);

    // the vault's root is the tree of the worker's credited batches; C's owner withdraws 3 units × 2
    const tree = new EarningsTree(DEPTH);
    for (const b of await store.batches!.creditedBatches(imageId))
      for (const c of JSON.parse(b.credits!) as Record<string, string>[])
        tree.set({
          deviceId: BigInt(c.deviceId!),
          cumulative: BigInt(c.cumulative!),
          firstEpoch: BigInt(c.firstEpoch!),
          lastEpoch: BigInt(c.lastEpoch!),
          window: BigInt(c.window!),
        });
    expect(await vault.rootOf(imageId)).toBe(tree.root);
    // the owner's credit is found from the chain alone (the batch's calldata), not from this worker's store
    const credit = (await vault.latestCredit(imageId, keys[2]!.deviceId))!;
    expect(credit.cumulative).toBe(tree.leafAt(keys[2]!.deviceId)!.cumulative);
    const w = await vault.withdraw({ imageId, deviceId: keys[2]!.deviceId, credit });
    expect([w.owner, w.units, w.reward]).toEqual([net.clients[3]!.address, 3n, 6n]);

    // the first batch sent again (what a second submission after a crash would be): the vault refuses it
    const again = (await store.batches!.getBatch(b1!.id))!;
    await reverted(
      contractsBatchChainPort(admin, vault.address).submitBatch({
        imageId,
        n: N,
        epoch: BigInt(again.epoch),
        prevRoot: BigInt(again.prev_root!),
        newRoot: BigInt(again.new_root!),
        credits: encodeCredits(
          (JSON.parse(again.credits!) as Record<string, string>[]).map((c) => ({
            deviceId: BigInt(c.deviceId!),
            output: BigInt(c.output!),
            cumulative: BigInt(c.cumulative!),
            firstEpoch: BigInt(c.firstEpoch!),
            lag: BigInt(c.lag!),
          })),
        ),
        proof: again.proof!,
      }),
      "BatchVault__StaleRoot",
    );

    // mfi status shows the batches (id, applet, epoch, devices, state, tx) and each claim's batch
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ["cli/bin.mjs", "status", "--db", join(dir, "db.sqlite"), "--json"],
      { cwd: join(import.meta.dirname, "..") },
    );
    const status = JSON.parse(stdout) as {
      recentBatches: { id: number; imageId: string; epoch: string; devices: number; state: string; txHash: string }[];
      recentClaims: { id: number; batchId: number | null }[];
    };
    expect(status.recentBatches).toEqual([
      expect.objectContaining({
        id: 2,
        imageId,
        epoch: b1!.epoch,
        devices: 1,
        state: "credited",
        txHash: expect.stringMatching(/^0x/),
      }),
      expect.objectContaining({
        id: 1,
        imageId,
        epoch: b1!.epoch,
        devices: 2,
        state: "credited",
        txHash: again.tx_hash,
      }),
    ]);
    expect(status.recentClaims.map((c) => c.batchId).sort()).toEqual([1, 1, 2]);
    const text = (
      await promisify(execFile)(process.execPath, ["cli/bin.mjs", "status", "--db", join(dir, "db.sqlite")], {
        cwd: join(import.meta.dirname, ".."),
      })
    ).stdout;
    expect(text).toMatch(/recent batches\n  #2 .* 1\/2 devices  credited  tx 0x/);
  });
});

const credited0 = (rows: { state: string; epoch: string }[]) => rows.find((r) => r.state === "credited")!;
