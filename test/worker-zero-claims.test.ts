/**
 * Issue 22: zero claims do not vanish. energy-sum (built) over a device whose energy counter reads 0 all epoch, on the
 * real runtime and a real SQLite file: the claim of output 0 is recorded, proved and sent (a zero output is a fact on
 * chain, PayoutVault.factOf: docs/market.md), paid 0, and shown as "proven, nothing to pay" by the devnet's event line
 * and `mfi status`. (contracts/vault.test.ts checks the vault records a zero fact and pays nothing.)
 */
import { describe, expect, it } from "vitest";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { imageIdHex } from "../core/index.ts";
import { genesisHash, hashReading, padValues, packEpoch, type SignedReading } from "../device-sdk/index.ts";
import { Engine, imageIdOf } from "../runtime/index.ts";
import { eventLine } from "../cli/devnet/events.ts";
import { openStore } from "../store/index.ts";
import {
  EpochWorker,
  runtimeRunPort,
  type AppletSpec,
  type ChainPort,
  type ProvePort,
  type WorkerEvent,
} from "../worker/index.ts";

import { mfi } from "./helpers.ts";

const EPOCH = 10_000;
const sig = { R8x: 1n, R8y: 2n, S: 3n };

function spec(name: string, wasm: Uint8Array): AppletSpec {
  return { imageId: imageIdHex(imageIdOf(wasm)), name, wasm, reducer: "sum", rewardPerUnit: 1n };
}

function readings(deviceId: bigint, n: number): SignedReading[] {
  let prev = genesisHash(deviceId);
  return Array.from({ length: n }, (_, i) => {
    const r = { deviceId, seq: BigInt(i + 1), ts: BigInt(1000 + i * 4000), values: padValues([0n]), prev };
    prev = hashReading(r);
    return { ...r, hash: prev, signature: sig };
  });
}

const prove: ProvePort = async (a) => ({
  receipt: JSON.stringify({ sealed: "0" }),
  calldata: {
    imageId: a.applet.imageId,
    deviceId: a.device.deviceId,
    epoch: packEpoch(a.epoch),
    output: a.output,
    proof: "0x",
  },
});

function chain(): ChainPort & { paid: string[] } {
  const paid: string[] = [];
  let n = 0;
  const txs = new Map<string, string>();
  return {
    paid,
    isClaimed: async () => false,
    async submit(c) {
      const h = `0x${(++n).toString(16)}`;
      txs.set(h, `${c.imageId}/${c.deviceId}/${c.epoch}`);
      return { txHash: h };
    },
    async waitPaid(h) {
      paid.push(txs.get(h)!);
      return { status: "paid", reward: 0n, gasUsed: 1n };
    },
  };
}

describe("zero claims (issue 22)", () => {
  it("are recorded, proven as facts and shown as nothing to pay", async () => {
    const path = join(mkdtempSync(join(tmpdir(), "mfi-zero-")), "db.sqlite");
    const store = openStore(path);
    const deviceId = 42n;
    await store.insertDevice({
      deviceId,
      publicKey: { x: 1n, y: 2n },
      owner: "0x" + "11".repeat(20),
      chainId: 31337n,
      registry: "0x" + "00".repeat(20),
      signature: sig,
      registeredAt: 0,
    });
    expect((await store.appendReadings(deviceId, readings(deviceId, 12), 0)).ok).toBe(true);
    const good = spec("energy-sum", new Uint8Array(readFileSync("build/applets/energy-sum.wasm")));
    const events: WorkerEvent[] = [];
    const L1 = chain();
    const w = new EpochWorker({
      store,
      workerStore: store.worker,
      run: runtimeRunPort(new Engine()),
      prove,
      chain: L1,
      epochMs: EPOCH,
      graceMs: 0,
      now: () => 50_000,
      onEvent: (e) => events.push(e),
    });
    await w.addApplet(good, 0);
    for (let i = 0; i < 4; i++) {
      await w.tick();
      await w.idle();
    }
    await w.stop();
    expect(events.filter((e) => e.type === "run").map((e) => (e as { claims: number }).claims)).toEqual([1, 1, 1, 1]);
    expect(L1.paid).toHaveLength(4);
    const claims = await store.worker.listClaims(10);
    expect(claims.map((c) => [c.output, c.state, c.reward])).toEqual(Array(4).fill(["0", "paid", "0"]));
    const paid = events.find((e) => e.type === "claim" && e.state === "paid")!;
    expect(eventLine(paid)).toMatch(/proven on chain: nothing to pay/);
    await store.close();
    const text = await mfi(["status", "--db", path]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/output 0 {2}proven, nothing to pay/);
    // each claim's receipt is in mfi status --json, as stored, for mfi verify
    const json = JSON.parse((await mfi(["status", "--db", path, "--json"])).stdout) as {
      recentClaims: { receipt: unknown }[];
    };
    expect(json.recentClaims.map((c) => c.receipt)).toEqual(Array(4).fill({ sealed: "0" }));
  }, 120_000);
});
