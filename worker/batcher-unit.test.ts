/**
 * The batcher's own rules over a real SQLite store, with small fakes for the chain and the prover (the real ones run
 * in batcher.test.ts): a claim whose chain has no signed reading after the epoch is waited for, then given up with
 * the reason after ten deadlines, so the applet's later epochs do not wait behind it for ever; the prover is never
 * asked for a batch without devices; a key the vault would refuse for its first credited epoch (unknown, valid for
 * part of it, of a maker the applet does not pay) fails before a proof is spent on it; an applet's batch circuit is
 * prepared (set up, key warmed) once, as soon as the batcher learns the applet is batched; nothing is proved for an
 * applet whose vault verifier is another setup's.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { packEpoch } from "../device-sdk/index.ts";
import { BatchSetupMemoryError, EarningsTree } from "../circuits/index.ts";
import { openStore, type StoreSet } from "../store/index.ts";
import { recordClaimRun, storeDeviceEpoch } from "../store/fixtures.ts";
import { deviceKey } from "../circuits/fixtures.ts";
import type { BatchChainPort } from "./batch-chain.ts";
import type { BatchProverPort } from "./batch-prover.ts";
import { Batcher, type BatcherOptions, type BatchEvent } from "./batcher.ts";
import { BatchVerifierMismatchError } from "./errors.ts";

const VAULT = "0x" + "22".repeat(20);
const SUM = { imageId: "ab".repeat(32), name: "sum", wasm: new Uint8Array([0, 97, 115, 109]), rewardPerUnit: 1n };
let dir: string;
let store: StoreSet;
afterEach(async () => {
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

type RunArgs = Parameters<StoreSet["worker"]["recordRun"]>[0];
type Applet = RunArgs["applet"];

/** A fresh store in a temp dir (closed and removed after the test) that already runs these applets. */
async function openStoreWith(...applets: Applet[]): Promise<void> {
  dir = mkdtempSync(join(tmpdir(), "mfi-batcher-unit-"));
  store = openStore(join(dir, "db.sqlite"));
  for (const applet of applets) await store.worker.upsertApplet(applet, 0, 0);
}

/**
 * A device's chain over the 10 s epoch from `startMs` (closed by a signed reading after it when `signedAfter`) and its
 * stored claim of 10 units by SUM: the batcher's input.
 */
function storeEpochOf(
  key: { deviceId: bigint; publicKey: { x: bigint; y: bigint } },
  startMs = 10_000n,
  signedAfter = true,
): Promise<bigint> {
  return storeDeviceEpoch(store, {
    applet: SUM,
    deviceId: key.deviceId,
    publicKey: key.publicKey,
    startMs,
    signedAfter,
    output: 10n,
  });
}

/**
 * A Batcher over the test's store with stub ports a test overrides only where it is about them: a prover (N 2, K 16,
 * depth 4) that refuses to prove, and a chain whose vault batches every applet, holds the empty tree's root and takes
 * no submission.
 */
function batcherOf(
  o: Partial<Omit<BatcherOptions, "store" | "workerStore" | "batches" | "prover" | "chain">> & {
    prover?: Partial<BatchProverPort>;
    chain?: Partial<BatchChainPort>;
  } = {},
): Batcher {
  const { prover, chain, ...rest } = o;
  return new Batcher({
    store,
    workerStore: store.worker,
    batches: store.batches!,
    prover: {
      n: 2,
      k: 16,
      depth: 4,
      prove: async () => Promise.reject(new Error("not expected")),
      close: async () => {},
      ...prover,
    },
    chain: {
      vault: VAULT,
      batchVaultOf: async () => ({ vault: VAULT, fromMs: 0n }),
      rootOf: async () => new EarningsTree(4).root,
      submitBatch: async () => Promise.reject(new Error("not expected")),
      ...chain,
    },
    deadlineMs: 100,
    ...rest,
  });
}

/** A stored run of the applet for the device's epoch with one claim of 10 units (the batcher's input). */
async function recordClaim(applet: Applet, deviceId: bigint, epoch: bigint, readings: RunArgs["readings"]) {
  await recordClaimRun(store.worker, { applet, deviceId, epoch, output: 10n, readings });
}

it("gives up a claim whose chain is never signed after the epoch, after ten deadlines, with the reason", async () => {
  await openStoreWith(SUM);
  // readings inside the epoch [10 000, 20 000) and one after it, none signed
  await storeEpochOf({ deviceId: 42n, publicKey: { x: 1n, y: 2n } }, 10_000n, false);

  let now = 1_000_000;
  const events: BatchEvent[] = [];
  let proofs = 0;
  const batcher = batcherOf({
    prover: {
      prove: async () => {
        proofs++;
        throw new Error("not expected");
      },
    },
    now: () => now,
    onEvent: (e) => events.push(e),
  });
  await batcher.tick(); // queued, then waited for: it is not past the deadline yet
  now += 150; // past the deadline: a batch is formed, but the device's chain is still being written
  await batcher.tick();
  expect((await store.worker.listClaims())[0]!.state).toBe("pending");
  now += 1_000; // past ten deadlines
  await batcher.tick();
  const [claim] = await store.worker.listClaims();
  expect(claim!.state).toBe("failed");
  expect(claim!.error).toMatch(/waiting for a signed reading after the epoch: gave up after 1000 ms/);
  expect(await store.batches!.queuedClaims()).toEqual([]);
  expect(proofs).toBe(0);
  expect(events.map((e) => [e.type, "state" in e ? e.state : undefined])).toEqual([
    ["batch-claim", "queued"],
    ["batch-claim", "failed"],
  ]);
});

it("an epoch whose chains are still being written does not hold a later, ready epoch back (credited late later)", async () => {
  await openStoreWith(SUM);
  // one device in epoch [10 000, 20 000): no signed reading after it yet; another in [20 000, 30 000): closed
  const [w, r] = await Promise.all([deviceKey(61), deviceKey(62)]);
  const waiting = w!.deviceId;
  for (const [key, startMs, signedAfter] of [
    [w!, 10_000n, false],
    [r!, 20_000n, true],
  ] as const)
    await storeEpochOf(key, startMs, signedAfter);
  let now = 1_000_000;
  const proved: bigint[] = [];
  const batcher = batcherOf({
    prover: {
      prove: async ({ epoch }) => {
        proved.push(epoch.startMs);
        throw new Error("not now");
      },
    },
    now: () => now,
  });
  await batcher.tick(); // queued
  now += 150; // both past the deadline: the older epoch waits for its chain, the later one is proved
  await batcher.tick();
  expect(proved).toEqual([20_000n]);
  const pending = (await store.worker.listClaims()).find((c) => BigInt(c.device_id) === waiting)!;
  expect(pending.state).toBe("pending");
});

it("prepares a batched applet's circuit once, when it learns the applet is batched, and no other applet's", async () => {
  const batched = SUM;
  const single = { ...SUM, imageId: "cd".repeat(32), name: "max" };
  await openStoreWith(batched, single);
  const prepared: string[] = [];
  const batcher = batcherOf({
    prover: {
      prepare: async (applet) => {
        prepared.push(applet.imageId);
      },
    },
    chain: {
      batchVaultOf: async (imageId) => ({
        vault: imageId === batched.imageId ? VAULT : "0x" + "00".repeat(20),
        fromMs: 0n,
      }),
    },
  });
  await batcher.refreshApplets();
  await batcher.refreshApplets();
  expect(prepared).toEqual([batched.imageId]);
});

it("fails a proved batch the vault can never accept (InvalidProof, BadCredits): its claims go back to the queue", async () => {
  await openStoreWith(SUM);
  const epoch = packEpoch({ startMs: 10_000n, lengthMs: 10_000n });
  await recordClaim(SUM, 42n, epoch, [{ seq: 1n, ts: 0n } as never]);
  const claimIds = (await store.worker.listClaims()).map((c) => c.id);
  await store.batches!.queueClaims(claimIds, 0);
  const empty = new EarningsTree(4).root;
  const id = await store.batches!.createBatch({ imageId: SUM.imageId, epoch, n: 2, claimIds, now: 0 });
  const credits = [
    { deviceId: "42", output: "10", cumulative: "10", firstEpoch: epoch.toString(), lastEpoch: epoch.toString() },
  ];
  await store.batches!.markBatchProved(id, {
    prevRoot: empty,
    newRoot: 7n,
    proof: "0x" + "00".repeat(256),
    credits: JSON.stringify(credits),
    proveMs: 1,
    now: 0,
  });
  const sent: string[] = [];
  const batcher = batcherOf({
    chain: {
      submitBatch: async (b) => {
        sent.push(b.credits);
        throw Object.assign(new Error("BatchVault__InvalidProof"), { errorName: "BatchVault__InvalidProof" });
      },
    },
    deadlineMs: 60_000,
    now: () => 1,
  });
  await batcher.tick();
  // the credits went as calldata: the device's whole id first
  expect(sent).toHaveLength(1);
  expect(BigInt(sent[0]!.slice(0, 66))).toBe(42n);
  const b = (await store.batches!.getBatch(id))!;
  expect([b.state, b.error]).toEqual(["failed", expect.stringMatching(/BatchVault__InvalidProof/)]);
  expect((await store.batches!.queuedClaims()).map((c) => [c.claimId, c.batchId])).toEqual([[claimIds[0], null]]);
});

it("a key the vault will not credit (KeyNotValid, UnknownDevice): the batch fails, that claim fails, the others requeue", async () => {
  await openStoreWith(SUM);
  const epoch = packEpoch({ startMs: 10_000n, lengthMs: 10_000n });
  await recordClaim(SUM, 42n, epoch, [{ seq: 1n, ts: 0n } as never]);
  await recordClaim(SUM, 43n, epoch, [{ seq: 1n, ts: 0n } as never]);
  const claims = await store.worker.listClaims();
  const claimIds = claims.map((c) => c.id);
  await store.batches!.queueClaims(claimIds, 0);
  const empty = new EarningsTree(4).root;
  const id = await store.batches!.createBatch({ imageId: SUM.imageId, epoch, n: 2, claimIds, now: 0 });
  const credit = (d: string) => ({
    deviceId: d,
    output: "1",
    cumulative: "1",
    firstEpoch: `${epoch}`,
    lastEpoch: `${epoch}`,
  });
  await store.batches!.markBatchProved(id, {
    prevRoot: empty,
    newRoot: 7n,
    proof: "0x" + "00".repeat(256),
    credits: JSON.stringify([credit("42"), credit("43")]),
    proveMs: 1,
    now: 0,
  });
  const events: BatchEvent[] = [];
  const batcher = batcherOf({
    chain: {
      submitBatch: async () => {
        throw Object.assign(new Error("BatchVault__KeyNotValid"), {
          errorName: "BatchVault__KeyNotValid",
          args: [43n, epoch, epoch, 15_000n, 0n],
        });
      },
    },
    deadlineMs: 60_000,
    now: () => 1,
    onEvent: (e) => events.push(e),
  });
  await batcher.tick();
  const b = (await store.batches!.getBatch(id))!;
  expect([b.state, b.error]).toEqual(["failed", expect.stringMatching(/BatchVault__KeyNotValid.*device 43/)]);
  const of43 = claims.find((c) => BigInt(c.device_id) === 43n)!.id;
  expect((await store.batches!.queuedClaims()).map((c) => [c.claimId, c.batchId])).toEqual([
    [claims.find((c) => BigInt(c.device_id) === 42n)!.id, null],
  ]);
  expect(events).toContainEqual(
    expect.objectContaining({
      type: "batch-claim",
      claimId: of43,
      state: "failed",
      detail: expect.stringMatching(/KeyNotValid/),
    }),
  );
});

it("a key the vault would refuse for its first epoch (unknown, valid for part of it, maker not paid) fails before any proof", async () => {
  await openStoreWith(SUM);
  // four devices with closed chains in epoch [10 000, 20 000): a registered key, an unknown one, one rotated in at
  // 15 000 (valid for half of the epoch), one of a maker the applet does not pay
  const [ok, unknown, rotated, foreign] = await Promise.all([63, 64, 65, 66].map(deviceKey));
  for (const key of [ok!, unknown!, rotated!, foreign!]) await storeEpochOf(key);
  const windows = new Map([
    [ok!.deviceId, { fromMs: 0n, untilMs: 0n, accepted: true }],
    [rotated!.deviceId, { fromMs: 15_000n, untilMs: 0n, accepted: true }],
    [foreign!.deviceId, { fromMs: 0n, untilMs: 0n, accepted: false }],
  ]);
  let now = 1_000_000;
  const proved: bigint[][] = [];
  const events: BatchEvent[] = [];
  const batcher = batcherOf({
    prover: {
      n: 4,
      prove: async ({ devices }) => {
        proved.push(devices.map((d) => d.device.deviceId));
        throw new Error("not now");
      },
    },
    chain: {
      keyFor: async (imageId, deviceId) => {
        expect(imageId).toBe(SUM.imageId);
        return windows.get(deviceId);
      },
    },
    now: () => now,
    onEvent: (e) => events.push(e),
  });
  await batcher.tick(); // queued
  now += 150;
  await batcher.tick();
  expect(proved).toEqual([[ok!.deviceId]]);
  const failed = (await store.worker.listClaims()).filter((c) => c.state === "failed");
  expect(failed.map((c) => [BigInt(c.device_id), c.error]).sort((a, b) => (a[0]! < b[0]! ? -1 : 1))).toEqual(
    [
      [unknown!.deviceId, expect.stringMatching(/^BatchVault__UnknownDevice/)],
      [
        rotated!.deviceId,
        expect.stringMatching(
          /^BatchVault__KeyNotValid: the key became the token's key after the epoch's start \(valid \[15000, open\) ms/,
        ),
      ],
      [foreign!.deviceId, expect.stringMatching(/^BatchVault__DeviceNotAccepted/)],
    ].sort((a, b) => ((a[0] as bigint) < (b[0] as bigint) ? -1 : 1)),
  );
  expect(events.filter((e) => e.type === "batch-claim" && e.state === "failed")).toHaveLength(3);
});

it("a batch circuit whose setup lacks memory stops the applet's batching until a restart, its claims kept", async () => {
  await openStoreWith(SUM);
  await storeEpochOf((await deviceKey(67))!);
  let now = 1_000_000;
  let proofs = 0;
  const events: BatchEvent[] = [];
  const batcher = batcherOf({
    prover: {
      prove: async () => {
        proofs++;
        throw new BatchSetupMemoryError("the dev setup needs about 7050 MB of JavaScript heap", {
          details: "run it again with NODE_OPTIONS=--max-old-space-size=7050",
        });
      },
    },
    now: () => now,
    retryMs: 1_000,
    onEvent: (e) => events.push(e),
  });
  await batcher.tick(); // queued
  now += 150;
  await batcher.tick();
  expect(proofs).toBe(1);
  expect(events).toContainEqual(
    expect.objectContaining({
      state: "failed",
      detail: expect.stringMatching(/batching stops until the worker restarts/),
    }),
  );
  // long past retryMs: not proved again (a large N's compile and setup would start over each time)
  now += 3_600_000;
  await batcher.tick();
  expect(proofs).toBe(1);
  expect((await store.batches!.queuedClaims()).map((c) => c.batchId)).toEqual([null]);
});

it("rebuilds an applet's tree from the chain's batches when its store's does not match the vault's root", async () => {
  await openStoreWith();
  const imageId = "ab".repeat(32);
  const onChain = new EarningsTree(4);
  const leaf = { deviceId: 42n, cumulative: 10n, firstEpoch: 5n, lastEpoch: 5n, window: 0n };
  onChain.set(leaf);
  let leaves = [leaf];
  let scans = 0;
  const events: BatchEvent[] = [];
  const batcher = batcherOf({
    chain: {
      rootOf: async () => onChain.root,
      creditedLeaves: async () => {
        scans++;
        return leaves;
      },
    },
    onEvent: (e) => events.push(e),
  });
  // this worker credited nothing (another batcher did, or its store was lost): the chain's leaves give the root
  const treeOf = (batcher as unknown as { treeOf(id: string): Promise<EarningsTree> }).treeOf.bind(batcher);
  const tree = await treeOf(imageId);
  expect([tree.root, tree.leafAt(42n)]).toEqual([onChain.root, leaf]);
  expect(events.map((e) => e.type)).toEqual(["batch-tree"]);
  // kept: the next batch does not scan the chain again while the vault's root is the rebuilt tree's
  expect((await treeOf(imageId)).root).toBe(onChain.root);
  expect(scans).toBe(1);
  // another batch moved the root: scanned again; leaves that do not make the vault's root are refused
  onChain.set({ ...leaf, deviceId: 43n });
  leaves = [{ ...leaf, cumulative: 11n }];
  await expect(treeOf(imageId)).rejects.toThrow(
    /neither the tree of this worker's credited batches \(\d+\) nor one rebuilt from the chain/,
  );
});

it("proves nothing for an applet whose vault verifier holds another key (same δ, other IC), and asks again later", async () => {
  await openStoreWith(SUM);
  await storeEpochOf((await deviceKey(68))!);
  const ours = {
    vk_delta_2: [
      ["11", "12"],
      ["13", "14"],
      ["1", "0"],
    ],
    IC: [["21", "22", "1"]],
  };
  const push = (v: number) => (0x60).toString(16) + v.toString(16).padStart(2, "0"); // PUSH1 v
  const ourCode = "0x" + [11, 12, 13, 14, 21, 22].map(push).join("");
  // the same δ (dev keys share it by circuit name), other IC points: circom's other level of the same circuit
  const otherCode = "0x" + [11, 12, 13, 14, 21, 23].map(push).join("");
  let code: string | undefined = otherCode;
  let now = 1_000_000;
  let proofs = 0;
  const events: BatchEvent[] = [];
  const batcher = batcherOf({
    prover: {
      verifyingKey: async () => ours,
      prove: async () => {
        proofs++;
        throw new Error("proof failed here: the test stops at the proof");
      },
    },
    chain: { verifierCode: async () => code },
    now: () => now,
    retryMs: 1_000,
    verifierRecheckMs: 30_000,
    onEvent: (e) => events.push(e),
  });
  await batcher.tick(); // queued
  now += 150;
  await batcher.tick();
  // no proof spent, no batch stored, the claim still queued, and the operator told why and what to do
  expect(proofs).toBe(0);
  expect(await store.batches!.openBatches()).toEqual([]);
  expect((await store.batches!.queuedClaims()).map((c) => c.batchId)).toEqual([null]);
  expect(events.at(-1)).toMatchObject({
    state: "failed",
    detail: expect.stringMatching(/verifier for batches of 2 is not this worker's batch circuit[\s\S]*never change/),
  });
  const check = (batcher as unknown as { checkVerifier(a: typeof SUM): Promise<void> }).checkVerifier.bind(batcher);
  await expect(check(SUM)).rejects.toBeInstanceOf(BatchVerifierMismatchError);
  now += 5_000; // past retryMs, not past the recheck: not asked again
  await batcher.tick();
  expect(proofs).toBe(0);
  // the worker now holds the keys that set it (e.g. restarted with that build): proved
  code = ourCode;
  now += 30_000;
  await batcher.tick();
  expect(proofs).toBe(1);
});

it("proves while the vault has no verifier for the applet's batches yet (sent once it is set)", async () => {
  await openStoreWith(SUM);
  await storeEpochOf((await deviceKey(69))!);
  let now = 1_000_000;
  let proofs = 0;
  const batcher = batcherOf({
    prover: {
      verifyingKey: async () => ({
        vk_delta_2: [
          ["11", "12"],
          ["13", "14"],
          ["1", "0"],
        ],
        IC: [["21", "22", "1"]],
      }),
      prove: async () => {
        proofs++;
        throw new Error("proof failed here: the test stops at the proof");
      },
    },
    chain: { verifierCode: async () => undefined },
    now: () => now,
  });
  await batcher.tick();
  now += 150;
  await batcher.tick();
  expect(proofs).toBe(1);
});

/** What a node that refuses the connection throws (Node's socket error). */
const refused = () => Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:8545"), { code: "ECONNREFUSED" });

it("an RPC outage is said once a minute, not every pass", async () => {
  await openStoreWith(SUM);
  let now = 1_000_000;
  let asked = 0;
  const events: BatchEvent[] = [];
  const batcher = batcherOf({
    chain: {
      batchVaultOf: async () => {
        asked++;
        now += 6_000; // each pass asks 6 s after the last (past refreshApplets' 5 s)
        throw refused();
      },
    },
    now: () => now,
    onEvent: (e) => events.push(e),
  });
  const passes = async (n: number) => {
    const until = asked + n;
    while (asked < until) await new Promise((r) => setTimeout(r, 2));
  };
  batcher.start(1);
  try {
    await passes(5); // ~30 s of outage
    expect(events).toEqual([
      expect.objectContaining({ state: "failed", detail: expect.stringMatching(/the chain cannot be reached/) }),
    ]);
    await passes(12); // 72 s more: once more
    expect(events).toHaveLength(2);
  } finally {
    await batcher.stop();
  }
});

it("an RPC outage met while forming a batch (the vault's root) is said once a minute too, per applet or not", async () => {
  await openStoreWith(SUM);
  await storeEpochOf((await deviceKey(70))!);
  let now = 1_000_000;
  const events: BatchEvent[] = [];
  const batcher = batcherOf({
    chain: {
      rootOf: async () => {
        throw refused();
      },
    },
    now: () => now,
    retryMs: 1_000,
    onEvent: (e) => events.push(e),
  });
  await batcher.tick(); // queued
  for (let i = 0; i < 15; i++) {
    now += 3_000; // past the deadline and retryMs: each pass forms a batch and asks for the root
    await batcher.tick();
  }
  const failed = events.filter((e) => e.type === "batch" && e.state === "failed");
  expect(failed).toHaveLength(1);
  expect(failed[0]).toMatchObject({ detail: expect.stringMatching(/ECONNREFUSED/) });
  expect((await store.batches!.queuedClaims()).map((c) => c.batchId)).toEqual([null]); // nothing lost
  now += 60_000;
  await batcher.tick();
  expect(events.filter((e) => e.type === "batch" && e.state === "failed")).toHaveLength(2);
});
