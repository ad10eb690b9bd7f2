import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { IMPORTS, INPUT } from "./abi.ts";
import { Engine } from "./engine.ts";
import fc from "fast-check";
import { encodeInput, encodeInputTransient, paramConfig, type AppletReading } from "./input.ts";
import { decodeJournal } from "./journal.ts";
import { RuntimeInputError } from "./errors.ts";
import { runModule } from "./run.ts";
import { stateRoot } from "./state.ts";
import { appletWat } from "./wat.ts";
import { FUEL_COSTS } from "./fuel.ts";

describe("ABI v1", () => {
  it("the AssemblyScript SDK declares exactly the imports of abi.ts", () => {
    const env = readFileSync(join(import.meta.dirname, "../applets/sdk/assembly/env.ts"), "utf8");
    const declared = [...env.matchAll(/@external\("mfi", "(\w+)"\)/g)].map((m) => m[1]);
    expect(declared.sort()).toEqual(Object.keys(IMPORTS).sort());
  });

  it("encodes the input canonically with the documented layout", () => {
    const readings = [
      { deviceId: 2n ** 200n + 5n, seq: 2n, ts: 2000n, values: [-7n, 1n] },
      { deviceId: 3n, seq: 1n, ts: 1000n, values: [9n, 0n, 0n, 4n] },
      { deviceId: 2n ** 200n + 5n, seq: 1n, ts: 1500n, values: [1n] },
    ];
    const bytes = encodeInput({ readings, epoch: { startMs: 1000n, lengthMs: 5000n }, config: paramConfig(42n) });
    expect(
      Buffer.from(
        encodeInput({
          readings: [...readings].reverse(),
          epoch: { startMs: 1000n, lengthMs: 5000n },
          config: paramConfig(42n),
        }),
      ),
    ).toEqual(Buffer.from(bytes));
    const dv = new DataView(bytes.buffer);
    expect([dv.getUint32(0, true), dv.getUint32(4, true), dv.getUint32(8, true), dv.getUint32(12, true)]).toEqual([
      1, 3, 2, 8,
    ]);
    expect([dv.getBigUint64(16, true), dv.getBigUint64(24, true)]).toEqual([1000n, 5000n]);
    // Device 3 sorts first; the big device has two readings starting at index 1.
    expect(bytes[32]).toBe(3);
    expect([dv.getUint32(32 + 32, true), dv.getUint32(32 + 36, true)]).toEqual([0, 1]);
    expect([dv.getUint32(72 + 32, true), dv.getUint32(72 + 36, true)]).toEqual([1, 2]);
    expect(dv.getBigInt64(112, true)).toBe(42n);
    const r2 = 120 + 2 * INPUT.readingBytes;
    expect([
      dv.getUint32(r2, true),
      dv.getBigUint64(r2 + 8, true),
      dv.getBigUint64(r2 + 16, true),
      dv.getBigInt64(r2 + 24, true),
    ]).toEqual([1, 2n, 2000n, -7n]);
    expect(bytes.length).toBe(120 + 3 * INPUT.readingBytes);
  });

  it("ordered input (fast path), shuffled input and the reused transient buffer give the same bytes", () => {
    const readings = [];
    for (let d = 0; d < 5; d++)
      for (let s = 1; s <= 20; s++)
        readings.push({
          deviceId: 2n ** 250n + BigInt(d),
          seq: BigInt(s),
          ts: BigInt(s * 1000),
          values: [BigInt(-s), BigInt(d)],
        });
    const shuffled = readings
      .map((r, i) => ({ r, k: (i * 7919) % 101 }))
      .sort((a, b) => a.k - b.k)
      .map((x) => x.r);
    const epoch = { startMs: 0n, lengthMs: 10n ** 6n };
    const want = Buffer.from(encodeInput({ readings, epoch, config: paramConfig(-1n) }));
    expect(Buffer.from(encodeInput({ readings: shuffled, epoch, config: paramConfig(-1n) }))).toEqual(want);
    // The transient buffer is reused: a smaller input after a larger one (and a shorter config) must leave no trace.
    expect(
      Buffer.from(encodeInputTransient({ readings: shuffled, epoch, config: new Uint8Array(13).fill(0xff) })).length,
    ).toBeGreaterThan(want.length);
    expect(Buffer.from(encodeInputTransient({ readings, epoch, config: paramConfig(-1n) }))).toEqual(want);
    const small = readings.slice(0, 3).map((r) => ({ ...r, values: [] }));
    expect(Buffer.from(encodeInputTransient({ readings: small, config: new Uint8Array([1]) }))).toEqual(
      Buffer.from(encodeInput({ readings: small, config: new Uint8Array([1]) })),
    );
  });

  it("any readings, in any order, encode as the layout says (a reference encoder), or fail as duplicates", () => {
    // Reference: sort by (deviceId, seq), then write every field with a DataView, exactly as docs/abi.md lays out.
    const reference = (rs: AppletReading[], epoch: { startMs: bigint; lengthMs: bigint }) => {
      const s = [...rs].sort((a, b) =>
        a.deviceId !== b.deviceId ? (a.deviceId < b.deviceId ? -1 : 1) : a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : 0,
      );
      const ids = [...new Set(s.map((r) => r.deviceId))];
      const out = new DataView(
        new ArrayBuffer(INPUT.headerBytes + ids.length * INPUT.deviceEntryBytes + s.length * INPUT.readingBytes),
      );
      [1, s.length, ids.length, 0].forEach((v, k) => out.setUint32(4 * k, v, true));
      out.setBigUint64(16, epoch.startMs, true);
      out.setBigUint64(24, epoch.lengthMs, true);
      ids.forEach((id, k) => {
        for (let b = 0; b < 32; b++) out.setUint8(32 + 40 * k + b, Number((id >> BigInt(8 * b)) & 0xffn));
        out.setUint32(
          32 + 40 * k + 32,
          s.findIndex((r) => r.deviceId === id),
          true,
        );
        out.setUint32(32 + 40 * k + 36, s.filter((r) => r.deviceId === id).length, true);
      });
      s.forEach((r, i) => {
        const o = INPUT.headerBytes + ids.length * INPUT.deviceEntryBytes + i * INPUT.readingBytes;
        out.setUint32(o, ids.indexOf(r.deviceId), true);
        out.setBigUint64(o + 8, r.seq, true);
        out.setBigUint64(o + 16, r.ts, true);
        for (let k = 0; k < 4; k++) out.setBigInt64(o + 24 + 8 * k, r.values[k] ?? 0n, true);
      });
      return Buffer.from(out.buffer);
    };
    // Seqs that differ only in their high or low 32 bits, so the fast path's order check sees both halves.
    const seq = fc.constantFrom(
      0n,
      1n,
      2n,
      0xffffffffn,
      1n << 32n,
      (1n << 32n) + 1n,
      5n << 40n,
      (1n << 64n) - 1n,
      (1n << 64n) - 2n,
    );
    const reading = fc.record({
      deviceId: fc.constantFrom(0n, 3n, 2n ** 200n, 2n ** 256n - 1n),
      seq,
      ts: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
      values: fc.array(fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }), { maxLength: 4 }),
    });
    fc.assert(
      fc.property(fc.array(reading, { maxLength: 12 }), fc.boolean(), (rs, sortFirst) => {
        const given = sortFirst
          ? [...rs].sort((a, b) =>
              a.deviceId !== b.deviceId
                ? a.deviceId < b.deviceId
                  ? -1
                  : 1
                : a.seq < b.seq
                  ? -1
                  : a.seq > b.seq
                    ? 1
                    : 0,
            )
          : rs;
        const epoch = { startMs: 7n, lengthMs: 9n };
        const dups = new Set(rs.map((r) => `${r.deviceId}/${r.seq}`)).size !== rs.length;
        if (dups) {
          expect(() => encodeInputTransient({ readings: given, epoch })).toThrow(/duplicate/);
          return;
        }
        expect(Buffer.from(encodeInputTransient({ readings: given, epoch }))).toEqual(reference(rs, epoch));
        expect(Buffer.from(encodeInput({ readings: given, epoch }))).toEqual(reference(rs, epoch));
      }),
      { numRuns: 400 },
    );
  });

  it("refuses readings it cannot encode", () => {
    expect(() => encodeInput({ readings: [{ deviceId: 1n, seq: 1n, ts: 0n, values: [2n ** 63n] }] })).toThrow(
      RuntimeInputError,
    );
    expect(() => encodeInput({ readings: [{ deviceId: 1n, seq: 1n, ts: 0n, values: [0n, 0n, 0n, 0n, 0n] }] })).toThrow(
      RuntimeInputError,
    );
    expect(() => encodeInput({ readings: [{ deviceId: 2n ** 256n, seq: 1n, ts: 0n, values: [] }] })).toThrow(
      RuntimeInputError,
    );
    const dup = { deviceId: 1n, seq: 1n, ts: 0n, values: [] };
    expect(() => encodeInput({ readings: [dup, { ...dup }] })).toThrow(/duplicate/);
    expect(() => encodeInput({ readings: [{ deviceId: -1n, seq: 1n, ts: 0n, values: [] }] })).toThrow(
      RuntimeInputError,
    );
    expect(() => encodeInput({ readings: [{ deviceId: 1n, seq: 2n ** 64n, ts: 0n, values: [] }] })).toThrow(/seq/);
    expect(() => encodeInput({ readings: [{ deviceId: 1n, seq: 1n, ts: -1n, values: [] }] })).toThrow(/ts/);
    // Every field of a reading in the middle of an epoch, in either order (sorted and unsorted paths), ±1 past its range.
    const ok = (seq: bigint) => ({ deviceId: 1n, seq, ts: 5n, values: [1n, 2n, 3n, 4n] as bigint[] });
    const bad: [Partial<ReturnType<typeof ok>>, RegExp][] = [
      [{ seq: 2n ** 64n }, /seq/],
      [{ ts: 2n ** 64n }, /ts/],
      [{ ts: -1n }, /ts/],
      ...[0, 1, 2, 3].flatMap((k): [Partial<ReturnType<typeof ok>>, RegExp][] => [
        [{ values: Object.assign([1n, 2n, 3n, 4n], { [k]: 2n ** 63n }) }, /not an i64/],
        [{ values: Object.assign([1n, 2n, 3n, 4n], { [k]: -(2n ** 63n) - 1n }) }, /not an i64/],
      ]),
    ];
    for (const [patch, re] of bad) {
      const rs = [ok(1n), { ...ok(2n), ...patch, seq: patch.seq ?? 2n }, ok(3n)];
      expect(() => encodeInputTransient({ readings: rs })).toThrow(re);
      expect(() => encodeInput({ readings: [...rs].reverse() })).toThrow(re);
    }
    // The extremes themselves encode.
    expect(() =>
      encodeInput({
        readings: [
          { deviceId: 1n, seq: 2n ** 64n - 1n, ts: 2n ** 64n - 1n, values: [2n ** 63n - 1n, -(2n ** 63n), 0n, -1n] },
        ],
      }),
    ).not.toThrow();
    expect(() => encodeInput({ readings: [{ deviceId: 1n, seq: 1n, ts: 0n, values: [-(2n ** 63n) - 1n] }] })).toThrow(
      /i64/,
    );
    // A bad deviceId is caught on a later reading too (ids are checked where they change).
    expect(() =>
      encodeInput({
        readings: [
          { deviceId: 1n, seq: 1n, ts: 0n, values: [] },
          { deviceId: 2n ** 256n, seq: 1n, ts: 0n, values: [] },
        ],
      }),
    ).toThrow(/256 bits/);
  });

  it("refuses a malformed journal", () => {
    expect(() => decodeJournal(new Uint8Array([1, 10, 0, 0, 0, 65]))).toThrow(RuntimeInputError);
    expect(() => decodeJournal(new Uint8Array([9, 0, 0, 0, 0]))).toThrow(/unknown journal entry kind/);
    expect(() => decodeJournal(new Uint8Array([3, 1, 0, 0, 0, 0]))).toThrow(/40/);
  });

  it("stateRoot does not depend on key order and changes with any value", () => {
    const a = stateRoot({ "7": { "61": "01", "62": "02" } });
    expect(stateRoot({ "7": { "62": "02", "61": "01" } })).toBe(a);
    expect(stateRoot({ "7": { "61": "01", "62": "03" } })).not.toBe(a);
    expect(stateRoot({})).toBe(stateRoot({ "9": {} }));
  });

  it("random is seeded from the input digest: same input, same numbers; other input, other numbers", () => {
    const engine = new Engine();
    const m = engine.compile(
      appletWat({
        main: `(i64.store (i32.const 0) (call $random)) (i64.store (i32.const 8) (call $random)) (call $emit (i32.const 0) (i32.const 16))`,
      }),
    );
    const run = (ts: bigint) =>
      decodeJournal(runModule(engine, m, { readings: [{ deviceId: 1n, seq: 1n, ts, values: [] }] }).journal)
        .records[0]!;
    expect(Buffer.from(run(1n))).toEqual(Buffer.from(run(1n)));
    expect(Buffer.from(run(1n))).not.toEqual(Buffer.from(run(2n)));
  });

  it("state_get / state_set round-trip per device and delete with length -1", () => {
    const engine = new Engine();
    const m = engine.compile(
      appletWat({
        main: `(call $state_set (i32.const 0) (i32.const 32) (i32.const 1) (i32.const 40) (i32.const 3))
               (call $state_set (i32.const 0) (i32.const 33) (i32.const 1) (i32.const 40) (i32.const -1))
               (call $emit (i32.const 100) (i32.const 4))
               (i32.store (i32.const 100) (call $state_get (i32.const 0) (i32.const 32) (i32.const 1) (i32.const 200) (i32.const 8)))
               (call $emit (i32.const 100) (i32.const 4))`,
        extra: `(data (i32.const 0) "\\07") (data (i32.const 32) "kx") (data (i32.const 40) "abc")`,
      }),
    );
    const r = runModule(engine, m, { readings: [], state: { "7": { "78": "ff" } } });
    expect(r.trap).toBeNull();
    expect(r.state).toEqual({ "7": { "6b": "616263" } });
    expect(Buffer.from(decodeJournal(r.journal).records[1]!).readInt32LE(0)).toBe(3);
  });
});

describe("fuel", () => {
  const loop = (n: number) =>
    appletWat({
      main: `(local $i i32) (loop $l (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const ${n}))))`,
    });
  const engine = new Engine();
  const fuelOf = (wasm: Uint8Array) => runModule(engine, engine.compile(wasm), { readings: [] }).fuelUsed;

  it("is charged per loop iteration by the block's instruction cost, not per function", () => {
    const f10 = fuelOf(loop(10));
    const f1010 = fuelOf(loop(1010));
    // Loop body: loop + br_if + lt_u + tee + add + get + two consts = 8 units per iteration.
    const perIteration = FUEL_COSTS.loop + FUEL_COSTS.br + 6;
    expect(f1010 - f10).toBe(1000 * perIteration);
  });

  it("is the same on every run of the same input", () => {
    expect(fuelOf(loop(500))).toBe(fuelOf(loop(500)));
  });

  it("includes host calls, by bytes moved", () => {
    const emit = (len: number) => fuelOf(appletWat({ main: `(call $emit (i32.const 0) (i32.const ${len}))` }));
    expect(emit(800) - emit(0)).toBe(100);
  });

  it("a host call that takes the last unit passes; one unit short traps in the host call", () => {
    const engine = new Engine();
    const m = engine.compile(appletWat({ main: `(call $emit (i32.const 0) (i32.const 800))` }));
    const need = runModule(engine, m, { readings: [] }).fuelUsed;
    const exact = runModule(engine, m, { readings: [], fuel: need });
    expect(exact.trap).toBeNull();
    expect(exact.fuelUsed).toBe(need);
    const short = runModule(engine, m, { readings: [], fuel: need - 1 });
    expect(short.trap).toEqual({ kind: "OutOfFuel", message: `out of fuel in a host call (limit ${need - 1})` });
    expect(short.fuelUsed).toBe(need - 1);
    expect(decodeJournal(short.journal).records).toEqual([]);
  });
});
