/**
 * The batcher on a real Postgres store (issue 26; embedded Postgres), with small fakes for the prover (it updates the
 * earnings tree in JS, no circuit) and the chain (a vault that keeps a root and refuses a stale one); the real ones
 * run on SQLite in batcher.test.ts. A full batch is formed, proved, submitted and credited (its claims paid with
 * output × reward per unit); a device whose data came late is credited by a later batch of the same epoch; a second
 * worker on the same database after a restart finds nothing to send again and the vault's root equals its tree.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { deviceIdOf, packEpoch } from "../device-sdk/index.ts";
import { EarningsTree } from "../circuits/index.ts";
import { openStoreAsync, type StoreSet } from "../store/index.ts";
import { startTestPostgres, type TestPostgres } from "../store/postgres/testing.ts";
import { storeDeviceEpoch } from "../store/fixtures.ts";
import { Batcher, type BatchEvent } from "./batcher.ts";
import type { BatchChainPort } from "./batch-chain.ts";
import type { BatchProverPort } from "./batch-prover.ts";

const VAULT = "0x" + "22".repeat(20);
const DEPTH = 4;
const applet = { imageId: "ab".repeat(32), name: "sum", wasm: new Uint8Array([0, 97, 115, 109]), rewardPerUnit: 3n };
const epoch = packEpoch({ startMs: 10_000n, lengthMs: 10_000n });
/** Device n's output is 10·n; its id is its key's (the prover's segment check), in its own slot of the small tree. */
const outputs = new Map<bigint, bigint>();
const output = (deviceId: bigint) => outputs.get(deviceId)!;
function deviceOf(n: bigint): bigint {
  const slots = new Set([...outputs.keys()].map((d) => d & BigInt(2 ** DEPTH - 1)));
  for (let x = n * 1000n; ; x++) {
    const id = deviceIdOf({ x, y: 2n });
    if (slots.has(id & BigInt(2 ** DEPTH - 1))) continue;
    outputs.set(id, 10n * n);
    keyX.set(id, x);
    return id;
  }
}
const keyX = new Map<bigint, bigint>();

let pg: TestPostgres;
beforeAll(async () => {
  pg = await startTestPostgres();
}, 120_000);
afterAll(async () => {
  await pg?.stop();
}, 60_000);

/** A device with readings inside the epoch [10 000, 20 000) and a signed one after it, and its run's claim. */
async function addDevice(store: StoreSet, n: bigint): Promise<bigint> {
  const deviceId = deviceOf(n);
  await storeDeviceEpoch(store, {
    applet,
    deviceId,
    publicKey: { x: keyX.get(deviceId)!, y: 2n },
    startMs: 10_000n,
    signedAfter: true,
    output: output(deviceId),
  });
  return deviceId;
}

/** The vault: one root per applet; a batch from another root is stale, as BatchVault__StaleRoot. */
function fakeVault(): BatchChainPort & { sent: number } {
  let root = new EarningsTree(DEPTH).root;
  return {
    vault: VAULT,
    sent: 0,
    batchVaultOf: async () => ({ vault: VAULT, fromMs: 0n }),
    rootOf: async () => root,
    async submitBatch(b) {
      if (b.prevRoot !== root) throw new Error("BatchVault__StaleRoot");
      root = b.newRoot;
      this.sent++;
      return { txHash: "0x" + this.sent.toString(16).padStart(64, "0"), gasUsed: 284_000n };
    },
  };
}

/** Credits each device with its claim's output on a copy of the tree, as the circuit's update does. */
const fakeProver: BatchProverPort = {
  n: 2,
  k: 16,
  depth: DEPTH,
  async prove({ devices, tree }) {
    const next = tree.clone();
    const prevRoot = tree.root;
    const credits = devices.map(({ device }) => {
      const old = next.leafAt(device.deviceId);
      const leaf = {
        deviceId: device.deviceId,
        cumulative: (old?.cumulative ?? 0n) + output(device.deviceId),
        firstEpoch: old?.firstEpoch ?? epoch,
        lastEpoch: epoch,
        window: 0n,
      };
      next.set(leaf);
      return { deviceId: device.deviceId, output: output(device.deviceId), leaf, lag: 0n };
    });
    return {
      proof: { prevRoot, newRoot: next.root, credits, tree: next } as never,
      encoded: "0x" + "00".repeat(256),
    };
  },
  close: async () => {},
};

it("forms, proves, submits and credits batches on Postgres; a late device joins a later batch; a restart sends nothing twice", async () => {
  const url = await pg.createDatabase();
  const store = await openStoreAsync(url);
  await store.worker.upsertApplet(applet, 0, 0);
  const [d1, d2] = [await addDevice(store, 1n), await addDevice(store, 2n)];
  const vault = fakeVault();
  let now = 1_000_000;
  const events: BatchEvent[] = [];
  const batcher = (s: StoreSet) =>
    new Batcher({
      store: s,
      workerStore: s.worker,
      batches: s.batches,
      prover: fakeProver,
      chain: vault,
      deadlineMs: 100,
      now: () => now,
      onEvent: (e) => events.push(e),
    });
  const first = batcher(store);
  await first.refreshApplets();
  await first.tick(); // both queued; a full batch of 2 is formed, proved, sent and credited at once
  let batches = await store.batches.listBatches();
  expect(batches.map((b) => [b.state, b.devices, b.tx_hash, b.gas_used])).toEqual([
    ["credited", 2, "0x" + "1".padStart(64, "0"), 284_000],
  ]);
  let claims = await store.worker.listClaims();
  expect(new Map(claims.map((c) => [c.device_id, [c.state, c.reward]]))).toEqual(
    new Map([
      [d1.toString(), ["paid", "30"]],
      [d2.toString(), ["paid", "60"]],
    ]),
  );

  // device 3's data comes late: credited by a later batch of the same epoch, alone once past the deadline
  const d3 = await addDevice(store, 3n);
  await first.tick();
  expect((await store.batches.openBatches()).length).toBe(0); // waiting for a second device or the deadline
  now += 150;
  await first.tick();
  batches = await store.batches.listBatches();
  expect(batches.map((b) => [b.state, b.devices])).toEqual([
    ["credited", 1],
    ["credited", 2],
  ]);
  claims = await store.worker.listClaims();
  expect(claims.find((c) => c.device_id === d3.toString())).toMatchObject({ state: "paid", reward: "90" });
  expect(vault.sent).toBe(2);

  // a restart: another worker on the same database (its own connections) resumes nothing and agrees with the vault
  const again = await openStoreAsync(url);
  const second = batcher(again);
  await second.refreshApplets();
  await second.tick();
  expect(vault.sent).toBe(2);
  expect(events.filter((e) => e.type === "batch" && e.state === "failed")).toEqual([]);
  const tree = new EarningsTree(DEPTH);
  for (const b of await again.batches.creditedBatches(applet.imageId))
    for (const c of JSON.parse(b.credits!) as {
      deviceId: string;
      cumulative: string;
      firstEpoch: string;
      lastEpoch: string;
      window: string;
    }[])
      tree.set({
        deviceId: BigInt(c.deviceId),
        cumulative: BigInt(c.cumulative),
        firstEpoch: BigInt(c.firstEpoch),
        lastEpoch: BigInt(c.lastEpoch),
        window: BigInt(c.window),
      });
  expect(tree.root).toBe(await vault.rootOf(applet.imageId));
  await again.close();
  await store.close();
}, 120_000);
