/**
 * The prover pool: failures are ProvingErrors (a witness the circuit refuses, a closed pool); a warmed pool has its
 * processes running and its keys in memory before the first job; closing it while it warms ends every process.
 */
import { afterAll, describe, expect, it } from "vitest";
import { artifactsOf, proveClaim, ProverPool, ProvingError } from "./index.ts";
import { poolBackend } from "./pool.ts";
import { deviceKey, makeChain, epochPoints, EPOCH, IMAGE_ID } from "./fixtures.ts";

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe("ProverPool", () => {
  const pools: ProverPool[] = [];
  afterAll(() => Promise.all(pools.map((p) => p.close())));

  it("inputs the circuit refuses reject with ProvingError; so does a closed pool", async () => {
    const pool = new ProverPool(1);
    const a = artifactsOf("register");
    try {
      // Not a registration: wrong and missing signals, so the witness calculator refuses it.
      const bad = { Ax: "1", Ay: "2", R8x: "3", R8y: "4", S: "5", msg: "6" };
      const err = await pool.prove(bad as never, a.wasm, a.zkey).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ProvingError);
      expect((err as ProvingError).shortMessage).toMatch(/^proving failed/);
    } finally {
      await pool.close();
    }
    const closed = await pool.prove({} as never, a.wasm, a.zkey).catch((e: unknown) => e);
    expect(closed).toBeInstanceOf(ProvingError);
    expect((closed as ProvingError).shortMessage).toMatch(/closed/);
  }, 120_000);

  it("warm(): processes start and keys are read before the first job, which reads no key", async () => {
    const pool = new ProverPool(1);
    pools.push(pool);
    const sum16 = artifactsOf("readings_sum_16");
    const warming = pool.warm([sum16]);
    // Started at once, not at the first job.
    expect(pool.counters()).toMatchObject({ spawned: 1, running: 1 });
    const report = await warming;
    const cached = poolBackend().backend !== "snarkjs";
    expect(report).toMatchObject({ processes: 1, backend: poolBackend().backend });
    expect(report.loaded).toEqual(cached ? [sum16.zkey] : []);
    if (cached) {
      expect(report).toMatchObject({ keysPerProcess: 1, compiled: 1 });
      expect(report.bytesPerProcess).toBeGreaterThan(1_000_000);
      expect(pool.counters()).toMatchObject({ reads: 1, hits: 0, keys: 1 });
    }
    // A second warm-up with the same key reads nothing again.
    await pool.warm([sum16]);
    expect(pool.counters().reads).toBe(cached ? 1 : 0);

    const key = await deviceKey(1);
    const r = await proveClaim({
      readings: await makeChain(key, epochPoints([5n, 7n], { after: 1 })),
      devicePublicKey: key.publicKey,
      epoch: EPOCH,
      imageId: IMAGE_ID,
      reducer: "sum",
      claim: 12n,
      pool,
    });
    expect(r.seal.circuit).toBe("readings_sum_16");
    expect(pool.counters()).toMatchObject({ spawned: 1, reads: cached ? 1 : 0, hits: cached ? 1 : 0 });
    if (cached) expect(r.stats.keyRead).toBe(false);
  }, 180_000);

  it("closing a pool while it warms ends every process; the warm-up and queued jobs settle", async () => {
    const pool = new ProverPool(2);
    const a = artifactsOf("readings_sum_64");
    const warming = pool.warm([a]);
    const pids = pool.pids();
    expect(pids).toHaveLength(2);
    const job = pool.prove({} as never, a.wasm, a.zkey).catch((e: unknown) => e);
    await pool.close();
    expect(await warming).toMatchObject({ closed: true });
    expect(await job).toBeInstanceOf(ProvingError);
    expect(pids.filter(alive)).toEqual([]);
    expect(await pool.warm([a])).toMatchObject({ closed: true, processes: 0 });
  }, 60_000);
});
