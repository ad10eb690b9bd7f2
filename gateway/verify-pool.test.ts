import { describe, expect, it } from "vitest";
import { getDefaultBackend, hashReading, type VerifyItem } from "../device-sdk/index.ts";
import { makeChain, testKey } from "./testing.ts";
import { GatewayError } from "./errors.ts";
import { createGateway } from "./index.ts";
import { createVerifier } from "./verify-pool.ts";

describe("verifier pool", async () => {
  // The gateway's own backend (Wasm). With circomlibjs's in the threads this file's process aborted now and then
  // ("free(): invalid pointer", 3 runs in 16), which CI saw as "Worker exited unexpectedly"; with Wasm: 0 in 14.
  const backend = await getDefaultBackend();
  const a = testKey(backend, 1);
  const b = testKey(backend, 2);
  const items: VerifyItem[] = [1n, 2n, 3n, 4n].map((msg) => ({
    msg,
    sig: backend.sign(a.privateKey, msg),
    publicKey: a.publicKey,
  }));
  // Wrong key, wrong message, tampered S: all false.
  const bad: VerifyItem[] = [
    { ...items[0]!, publicKey: b.publicKey },
    { ...items[1]!, msg: 99n },
    { ...items[2]!, sig: { ...items[2]!.sig, S: items[2]!.sig.S ^ 1n } },
  ];
  const mixed = [items[0]!, bad[0]!, items[1]!, bad[1]!, items[2]!, bad[2]!, items[3]!];
  const expected = [true, false, true, false, true, false, true];

  it("gives the same answers on worker threads as inline, also for concurrent requests split across workers", async () => {
    const inline = createVerifier({ backend, workers: 0 });
    expect(await inline.verifyBatch(mixed)).toEqual(expected);
    const pool = createVerifier({ backend, workers: 2, maxItemsPerMessage: 3 });
    try {
      await pool.ready();
      const answers = await Promise.all([
        pool.verifyBatch(mixed),
        pool.verifyBatch(mixed.slice(0, 2)),
        pool.verifyBatch([bad[1]!]),
        pool.verifyBatch([]),
      ]);
      expect(answers).toEqual([expected, expected.slice(0, 2), [false], []]);
      // Readings: hashed on the worker exactly as hashReading does; signed ones verified, unsigned ones null.
      const { readings } = makeChain(backend, a, 3, { signMode: "last" });
      const forged = { ...readings[2]!, signature: backend.sign(b.privateKey, readings[2]!.hash) };
      const checks = [...readings, forged].map((r) => ({ reading: r, signature: r.signature, publicKey: a.publicKey }));
      const [checked, inline] = await Promise.all([
        pool.checkReadings(checks),
        createVerifier({ backend, workers: 0 }).checkReadings(checks),
      ]);
      expect(checked).toEqual([
        ...readings.map((r) => ({ hash: hashReading(r), valid: r.signature ? true : null })),
        { hash: readings[2]!.hash, valid: false },
      ]);
      expect(inline).toEqual(checked);
      // Extreme values survive the packed trip to the worker (i64 ends, field edge): same hashes as inline.
      const edge = makeChain(backend, b, 2, {
        values: (i) => (i ? [-(2n ** 63n), 2n ** 63n - 1n, -1n, 0n] : [-5n]),
      }).readings;
      const edgeChecks = edge.map((r) => ({ reading: r, signature: r.signature, publicKey: b.publicKey }));
      expect(await pool.checkReadings(edgeChecks)).toEqual(edge.map((r) => ({ hash: hashReading(r), valid: true })));
    } finally {
      await pool.close();
    }
    await expect(pool.verifyBatch(items)).rejects.toThrow(/closed/);
  }, 180_000); // worker start-up (tsx + circomlibjs) is slow on a loaded machine

  it("refuses work beyond its queue bound with 503 and Retry-After instead of making every request wait", async () => {
    const pool = createVerifier({ backend, workers: 1, maxQueuedItems: 4 });
    try {
      // Both in the same turn, before the (lazily starting) thread can take anything: the second would overflow.
      const first = pool.verifyBatch(items.slice(0, 3));
      const second = pool.verifyBatch(items.slice(0, 3)).catch((e: unknown) => e);
      const err = (await second) as GatewayError;
      expect(err).toBeInstanceOf(GatewayError);
      expect(err.status).toBe(503);
      expect(err.headers["retry-after"]).toBe("1");
      expect(await first).toEqual([true, true, true]);
      // A single request larger than the bound is still taken when nothing waits.
      expect(await pool.verifyBatch(mixed)).toEqual(expected);
    } finally {
      await pool.close();
    }
  }, 180_000);

  it("a verifier thread that cannot load its backend: requests get 503, the process stays up", async () => {
    // The main thread has this backend; the thread looks it up by a name it does not know and fails to start.
    const broken = { ...backend, name: "no-such-backend" };
    const gw = await createGateway({
      dbPath: ":memory:",
      backend: broken,
      verifyWorkers: 1,
      maxClockSkewMs: null,
      rateLimit: false,
    });
    try {
      await expect(gw.verifier.ready()).rejects.toThrow(/no-such-backend/);
      const key = testKey(backend, 9);
      const { wire } = makeChain(backend, key, 1);
      const { registrationBody } = await import("./testing.ts");
      const reg = await gw.app.request("/v1/devices", {
        method: "POST",
        body: JSON.stringify(registrationBody(backend, key)),
        headers: { "content-type": "application/json" },
      });
      expect(reg.status).toBe(503);
      expect(reg.headers.get("retry-after")).toBe("1");
      expect(await gw.store.getDevice(key.deviceId)).toBeUndefined();
      await gw.store.insertDevice({
        deviceId: key.deviceId,
        publicKey: key.publicKey,
        owner: "0x1111111111111111111111111111111111111111",
        chainId: 31337n,
        registry: "0x0000000000000000000000000000000000000000",
        signature: { R8x: 0n, R8y: 0n, S: 0n },
        registeredAt: 0,
      });
      const res = await gw.app.request(`/v1/devices/${key.deviceId}/readings`, {
        method: "POST",
        body: JSON.stringify(wire[0]),
        headers: { "content-type": "application/json" },
      });
      expect(res.status).toBe(503);
      expect(await gw.store.countReadings()).toBe(0);
    } finally {
      await gw.close();
    }
  }, 180_000);
});
