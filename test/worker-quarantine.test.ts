/**
 * Issue 22: one bad applet never stalls everyone. A worker with a good applet (energy-sum, built) and one whose module
 * the runtime refuses (an f64 instruction) on the real runtime and a real SQLite file: the bad one is quarantined once
 * (one event, the reason stored), never retried per pass; the good one's claims are proved and paid meanwhile; the
 * quarantine outlives a restart and re-registration, and `mfi status` names it.
 */
import { describe, expect, it } from "vitest";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { imageIdHex } from "../core/index.ts";
import { genesisHash, hashReading, padValues, packEpoch, type SignedReading } from "../device-sdk/index.ts";
import { Engine, imageIdOf } from "../runtime/index.ts";
import { wat } from "../runtime/testing.ts";
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
    const r = { deviceId, seq: BigInt(i + 1), ts: BigInt(1000 + i * 4000), values: padValues([5n]), prev };
    prev = hashReading(r);
    return { ...r, hash: prev, signature: sig };
  });
}

const prove: ProvePort = async (a) => ({
  receipt: "{}",
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
      return { status: "paid", reward: 1n, gasUsed: 1n };
    },
  };
}

describe("a quarantined applet (issue 22)", () => {
  it("is reported once and skipped; the good applet's claims are proved and paid", async () => {
    const path = join(mkdtempSync(join(tmpdir(), "mfi-quarantine-")), "db.sqlite");
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
    const bad = spec(
      "float-rule",
      wat(`(module (memory (export "memory") 1 1)
        (func (export "mfi_main") (drop (f64.add (f64.const 1) (f64.const 2)))))`),
    );
    const events: WorkerEvent[] = [];
    const L1 = chain();
    const make = () =>
      new EpochWorker({
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
    let w = make();
    await w.addApplet(bad, 0);
    await w.addApplet(good, 0);
    for (let i = 0; i < 6; i++) {
      await w.tick(); // never throws for the bad applet
      await w.idle();
    }
    const q = events.filter((e) => e.type === "quarantined");
    expect(q).toHaveLength(1);
    expect(q[0]).toMatchObject({ imageId: bad.imageId, name: "float-rule" });
    expect((q[0] as { reason: string }).reason).toMatch(/f64/);
    // the good applet ran every closed epoch (0..3 hold readings) and each claim was paid
    const goodRuns = events.filter((e) => e.type === "run" && e.imageId === good.imageId);
    expect(goodRuns.length).toBe(4);
    expect(L1.paid.filter((k) => k.startsWith(good.imageId)).length).toBe(4);
    expect(events.filter((e) => e.type === "run" && e.imageId === bad.imageId)).toHaveLength(0);

    // a restart re-registering the same bytes keeps it quarantined: nothing is reported or retried again
    await w.stop();
    w = make();
    await w.addApplet(bad, 0);
    await w.tick();
    await w.idle();
    await w.stop();
    expect(events.filter((e) => e.type === "quarantined")).toHaveLength(1);
    const stored = (await store.worker.listApplets()).find((a) => a.spec.imageId === bad.imageId);
    expect(stored?.quarantined).toMatch(/f64/);
    await store.close();

    const status = await mfi(["status", "--db", path, "--json"]);
    expect(status.code).toBe(0);
    const json = JSON.parse(status.stdout) as { quarantined: { name: string; reason: string }[] };
    expect(json.quarantined).toEqual([
      { imageId: bad.imageId, name: "float-rule", reason: expect.stringMatching(/f64/) },
    ]);
    const text = await mfi(["status", "--db", path]);
    expect(text.stdout).toMatch(/applet float-rule .*QUARANTINED, not run: .*f64/);
  }, 120_000);
});
