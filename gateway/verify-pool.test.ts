import { describe, expect, it } from "vitest";
import { buildJsBackend, hashReading, type VerifyItem } from "../device-sdk/index.ts";
import { makeChain, testKey } from "./testing.ts";
import { createVerifier } from "./verify-pool.ts";

describe("verifier pool", async () => {
  const backend = await buildJsBackend();
  const a = testKey(backend, 1);
  const b = testKey(backend, 2);
  const items: VerifyItem[] = [1n, 2n, 3n, 4n].map((msg) => ({ msg, sig: backend.sign(a.privateKey, msg), publicKey: a.publicKey }));
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
      const answers = await Promise.all([pool.verifyBatch(mixed), pool.verifyBatch(mixed.slice(0, 2)), pool.verifyBatch([bad[1]!]), pool.verifyBatch([])]);
      expect(answers).toEqual([expected, expected.slice(0, 2), [false], []]);
      // Readings: hashed on the worker exactly as hashReading does; signed ones verified, unsigned ones null.
      const { readings } = makeChain(backend, a, 3, { signMode: "last" });
      const forged = { ...readings[2]!, signature: backend.sign(b.privateKey, readings[2]!.hash) };
      const checks = [...readings, forged].map((r) => ({ reading: r, signature: r.signature, publicKey: a.publicKey }));
      const [checked, inline] = await Promise.all([pool.checkReadings(checks), createVerifier({ backend, workers: 0 }).checkReadings(checks)]);
      expect(checked).toEqual([...readings.map((r) => ({ hash: hashReading(r), valid: r.signature ? true : null })), { hash: readings[2]!.hash, valid: false }]);
      expect(inline).toEqual(checked);
      // Extreme values survive the packed trip to the worker (i64 ends, field edge): same hashes as inline.
      const edge = makeChain(backend, b, 2, { values: (i) => (i ? [-(2n ** 63n), 2n ** 63n - 1n, -1n, 0n] : [-5n]) }).readings;
      const edgeChecks = edge.map((r) => ({ reading: r, signature: r.signature, publicKey: b.publicKey }));
      expect(await pool.checkReadings(edgeChecks)).toEqual(edge.map((r) => ({ hash: hashReading(r), valid: true })));
    } finally {
      await pool.close();
    }
    await expect(pool.verifyBatch(items)).rejects.toThrow(/closed/);
  }, 180_000); // worker start-up (tsx + circomlibjs) is slow on a loaded machine
});
