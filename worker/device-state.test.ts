/**
 * Issue 18 follow-ups: where a run's state comes from (DeviceTokens). The real runtime runs uptime-streak over readings
 * in a real SQLite store; the chain port is a fake (this is a unit of the worker: what the chain answers is chosen per
 * case). test/stateful-rotation.test.ts runs the whole loop on anvil with real proofs.
 */
import { describe, expect, it } from "vitest";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  genesisHash,
  hashReading,
  packEpoch,
  padValues,
  unpackEpoch,
  type SignedReading,
} from "../device-sdk/index.ts";
import { Engine, imageIdOf } from "../runtime/index.ts";
import { imageIdHex } from "../core/index.ts";
import { openStore } from "../store/index.ts";
import { loadBuiltApplet } from "../toolchain/index.ts";
import { DeviceTokens, type KeyInfo } from "./device-state.ts";
import { ChainReadError } from "./errors.ts";
import { decodeState, runtimeRunPort } from "./runtime-port.ts";
import type { AppletSpec, ChainPort } from "./ports.ts";

const LEN = 10_000n;
const sig = { R8x: 1n, R8y: 2n, S: 3n };
const epoch = (i: bigint) => packEpoch({ startMs: i * LEN, lengthMs: LEN });
const streak = Buffer.from("streak").toString("hex");

function chainOf(deviceId: bigint, points: [ts: bigint, v: bigint][]): SignedReading[] {
  let prev = genesisHash(deviceId);
  return points.map(([ts, v], i) => {
    const r = { deviceId, seq: BigInt(i + 1), ts, values: padValues([v]), prev };
    prev = hashReading(r);
    return { ...r, hash: prev, signature: sig };
  });
}

describe("DeviceTokens: a run's state follows the device token and re-syncs from the chain", () => {
  it("continues, re-syncs by replay, resets to empty, or says it cannot; the rotation epoch is not claimable", async () => {
    const wasm = loadBuiltApplet("uptime-streak");
    const applet: AppletSpec = {
      imageId: imageIdHex(imageIdOf(wasm)),
      name: "uptime-streak",
      wasm,
      param: 0n,
      rewardPerUnit: 1n,
    };
    const store = openStore(join(mkdtempSync(join(tmpdir(), "mfi-device-state-")), "db.sqlite"));
    // token 42 (its first key); key 43 replaced it at 25 s, in epoch 2
    const keys = new Map<bigint, KeyInfo>([
      [42n, { tokenId: 42n, validFromMs: 0n, validUntilMs: 25_000n }],
      [43n, { tokenId: 42n, validFromMs: 25_000n, validUntilMs: 0n }],
    ]);
    let onChain = { state: 7n, lastEpoch: 0n };
    let asked = 0;
    const chain: ChainPort = {
      isClaimed: async () => false,
      submit: async () => ({ txHash: "0x" }),
      waitPaid: async () => ({ status: "paid" }),
      stateOf: async () => (asked++, onChain),
      keyOf: async (d) => keys.get(d),
    };
    const run = runtimeRunPort(new Engine());
    const tokens = new DeviceTokens({ chain, workerStore: store.worker, store, run });
    const device = {
      deviceId: 42n,
      publicKey: { x: 1n, y: 2n },
      owner: "0x" + "11".repeat(20),
      chainId: 31337n,
      registry: "0x" + "00".repeat(20),
      signature: sig,
      registeredAt: 0,
    };
    for (const d of [42n, 43n]) await store.insertDevice({ ...device, deviceId: d });
    // key 42: up in epoch 1, a down report in epoch 2; key 43: up in epoch 3
    expect(
      (
        await store.appendReadings(
          42n,
          chainOf(42n, [
            [10_001n, 1n],
            [20_001n, 0n],
            [30_001n, 1n],
          ]),
          0,
        )
      ).ok,
    ).toBe(true);
    expect(
      (
        await store.appendReadings(
          43n,
          chainOf(43n, [
            [30_002n, 1n],
            [40_001n, 1n],
          ]),
          0,
        )
      ).ok,
    ).toBe(true);

    const runEpoch = async (deviceId: bigint, i: bigint) => {
      const from = await tokens.stateFor({ applet, deviceId, epoch: epoch(i) });
      const w = unpackEpoch(epoch(i));
      const readings = await store.listReadings({ deviceId, fromTs: w.startMs, toTs: w.startMs + w.lengthMs - 1n });
      const outcome = await run({ applet, epoch: w, deviceId, readings, state: from.state });
      const runId = await store.worker.recordRun({
        applet,
        deviceId,
        epoch: epoch(i),
        readings,
        stateBefore: from.state,
        outcome,
        claims: outcome.claims,
        now: 0,
        stateOwner: from.owner,
      });
      const claim = (await store.worker.claimAt(applet.imageId, deviceId.toString(), epoch(i)))!;
      return { from, runId, claim };
    };
    const streakOf = (s: Uint8Array | undefined, d: bigint) => decodeState(s)?.[d.toString()]?.[streak];

    // epoch 1: nothing paid on chain, nothing kept: the empty state
    const e1 = await runEpoch(42n, 1n);
    expect(e1.from).toEqual({ owner: 42n, state: undefined });
    await store.worker.markProved(e1.claim.id, "{}", JSON.stringify({ stateOut: "111" }), 1, 1);
    await store.worker.markPaid(e1.claim.id, {}, 2);
    // epoch 2: the chain holds epoch 1's stateOut, the worker's copy is its preimage: continued, no replay
    onChain = { state: 111n, lastEpoch: epoch(1n) };
    const e2 = await runEpoch(42n, 2n);
    expect(e2.from.note).toBeUndefined();
    expect(streakOf(e2.from.state, 42n)).toBe("0100000000000000");
    await store.worker.markFailed(e2.claim.id, "refused", 1, 3); // the rotation epoch's claim, say
    // epoch 3 under the new key: the copy (streak reset by epoch 2) is not the chain's state; epoch 1's run is
    // replayed and the new key starts from its state
    const e3 = await runEpoch(43n, 3n);
    expect(e3.from.owner).toBe(42n);
    expect(e3.from.note).toMatch(
      /^re-synced from the chain: token 0x2a's state after its last paid epoch \(run \d+, replayed\)/,
    );
    expect(Object.keys(decodeState(e3.from.state)!)).toEqual(["43"]);
    expect(streakOf(e3.from.state, 43n)).toBe("0100000000000000");
    // the state row is the token's, moved by the new key's run (streak 2)
    expect(streakOf(await store.worker.getState(applet.imageId, 42n), 43n)).toBe("0200000000000000");
    expect(await store.worker.getState(applet.imageId, 43n)).toBeUndefined();

    // while an earlier claim of the token (under any of its keys) is unsettled, the chain is not asked
    const before = asked;
    const e4 = await tokens.stateFor({ applet, deviceId: 43n, epoch: epoch(4n) });
    expect(asked).toBe(before);
    expect(streakOf(e4.state, 43n)).toBe("0200000000000000");
    // … nor by another process (a runner or submitter that never saw key 43) for the token's third key (A → B → C):
    // the claims carry their token
    keys.set(48n, { tokenId: 42n, validFromMs: 40_000n, validUntilMs: 0n });
    const other = new DeviceTokens({ chain, workerStore: store.worker, store, run });
    const e4c = await other.stateFor({ applet, deviceId: 48n, epoch: epoch(4n) });
    expect(asked).toBe(before);
    expect(e4c.owner).toBe(42n);
    expect(streakOf(e4c.state, 48n)).toBe("0200000000000000");
    await store.worker.markFailed(e3.claim.id, "refused", 1, 4);
    // a node behind (a load balancer's) answers before epoch 1's payment, which the store holds as paid: not the
    // chain's truth (a stateful payment sets lastEpoch), the copy is kept (re-syncing to empty would lose epoch 1)
    onChain = { state: 7n, lastEpoch: 0n };
    const stale = await tokens.stateFor({ applet, deviceId: 43n, epoch: epoch(4n) });
    expect(stale).toEqual({ owner: 42n, state: e4.state });
    // the chain's last paid claim is not one this worker made: no preimage, said so
    onChain = { state: 999n, lastEpoch: epoch(1n) };
    const unknown = await tokens.stateFor({ applet, deviceId: 43n, epoch: epoch(4n) });
    expect(unknown.note).toMatch(/^cannot re-sync token 0x2a: the chain's state .* is not one this worker made/);
    expect(streakOf(unknown.state, 43n)).toBe("0200000000000000");

    // the rotation epoch (2) is covered by neither key; the epochs around it by one each; an unknown key is not judged
    const w = (i: bigint) => unpackEpoch(epoch(i));
    expect(await tokens.notClaimable(42n, w(2n))).toMatch(
      /^not claimable: key 0x2a was rotated or revoked before the epoch's end/,
    );
    expect(await tokens.notClaimable(43n, w(2n))).toMatch(
      /^not claimable: key 0x2b became the token's key after the epoch's start/,
    );
    expect(await tokens.notClaimable(42n, w(1n))).toBeUndefined();
    expect(await tokens.notClaimable(43n, w(3n))).toBeUndefined();
    expect(await tokens.notClaimable(44n, w(2n))).toBeUndefined();
    expect(await tokens.tokenOf(44n)).toBe(44n);
    // a rotation exactly at an epoch's start (key 46 replaced 45 at 30 s): both neighbouring epochs are claimable
    keys.set(45n, { tokenId: 45n, validFromMs: 0n, validUntilMs: 30_000n });
    keys.set(46n, { tokenId: 45n, validFromMs: 30_000n, validUntilMs: 0n });
    expect(await tokens.notClaimable(45n, w(2n))).toBeUndefined();
    expect(await tokens.notClaimable(46n, w(3n))).toBeUndefined();
    expect(await tokens.notClaimable(45n, w(3n))).toMatch(/^not claimable: key 0x2d was rotated or revoked/);
    expect(await tokens.notClaimable(46n, w(2n))).toMatch(/^not claimable: key 0x2e became the token's key/);

    // a token none of whose claims is paid (its first claim failed for good) re-syncs to the empty state
    await store.insertDevice({ ...device, deviceId: 50n });
    expect(
      (
        await store.appendReadings(
          50n,
          chainOf(50n, [
            [10_001n, 1n],
            [20_001n, 1n],
          ]),
          0,
        )
      ).ok,
    ).toBe(true);
    const f1 = await runEpoch(50n, 1n);
    expect(streakOf(await store.worker.getState(applet.imageId, 50n), 50n)).toBe("0100000000000000");
    await store.worker.markFailed(f1.claim.id, "refused", 1, 5);
    onChain = { state: 7n, lastEpoch: 0n };
    expect(await tokens.stateFor({ applet, deviceId: 50n, epoch: epoch(2n) })).toEqual({
      owner: 50n,
      state: undefined,
      note: "re-synced to the empty state: no claim of token 0x32 is paid",
    });
    await store.close();
  });

  it("a chain that cannot answer is not a key it does not know: ChainReadError, bounded by a timeout, then at once", async () => {
    const store = openStore(join(mkdtempSync(join(tmpdir(), "mfi-device-state-")), "db.sqlite"));
    let calls = 0;
    let answer: () => Promise<KeyInfo | undefined> = () => Promise.reject(new Error("connect ECONNREFUSED"));
    const chain: ChainPort = {
      isClaimed: async () => false,
      submit: async () => ({ txHash: "0x" }),
      waitPaid: async () => ({ status: "paid" }),
      stateOf: async () => ({ state: 7n, lastEpoch: 0n }),
      keyOf: () => (calls++, answer()),
    };
    const o = { chain, workerStore: store.worker, store, run: runtimeRunPort(new Engine()) };
    const w = unpackEpoch(epoch(3n));
    // the RPC refuses: no token, no state, no "claimable"; a stateless applet's claim is kept (it may then fail)
    const refused = new DeviceTokens({ ...o, failedReadTtlMs: 0 });
    await expect(refused.tokenOf(43n)).rejects.toBeInstanceOf(ChainReadError);
    await expect(refused.notClaimable(43n, w)).rejects.toBeInstanceOf(ChainReadError);
    expect(await refused.notClaimable(43n, w, true)).toBeUndefined();
    const applet = { imageId: "ab".repeat(32), name: "x", wasm: new Uint8Array(), param: 0n, rewardPerUnit: 1n };
    await expect(refused.stateFor({ applet, deviceId: 43n, epoch: epoch(3n) })).rejects.toThrow(
      /cannot read DeviceRegistry\.claimInfo\(0x2b\) from the chain; the run waits for the next pass/,
    );
    // an RPC that never answers: the read gives up after the timeout, and the next reads fail at once (no call)
    answer = () => new Promise(() => {});
    const hung = new DeviceTokens({ ...o, readTimeoutMs: 50 });
    await expect(hung.keyInfo(43n)).rejects.toThrow(/no answer within 50 ms/);
    const before = calls;
    await expect(hung.keyInfo(44n)).rejects.toBeInstanceOf(ChainReadError);
    expect(calls).toBe(before);
    // a key the chain does not know (owner zero) is an answer (reused for the pass): asked once
    answer = async () => undefined;
    const unknown = new DeviceTokens(o);
    expect(await unknown.tokenOf(44n)).toBe(44n);
    expect(await unknown.notClaimable(44n, w)).toBeUndefined();
    expect(calls).toBe(before + 1);
    await store.close();
  });
});
