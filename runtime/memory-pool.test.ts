/** Recycled memories must be indistinguishable from new ones: no bytes, no size left over from an earlier run. */
import { describe, expect, it } from "vitest";
import { Engine } from "./engine.ts";
import { RuntimeInputError } from "./errors.ts";
import { decodeJournal } from "./journal.ts";
import { runModule } from "./run.ts";
import { appletWat } from "./wat.ts";

// Reports memory.size, the bytes at 4096 and the data segment at 100, then scribbles over all three.
const probe = (after: string) =>
  appletWat({
    memory: "1 4",
    extra: `(data (i32.const 100) "seed")`,
    main: `
      (i64.store (i32.const 0) (i64.extend_i32_u (memory.size)))
      (call $emit (i32.const 0) (i32.const 8))
      (call $emit (i32.const 4096) (i32.const 8))
      (call $emit (i32.const 100) (i32.const 4))
      (i64.store (i32.const 4096) (i64.const 0x1122334455667788))
      (i32.store (i32.const 100) (i32.const 0x58585858))
      ${after}`,
  });

const records = (r: { journal: Uint8Array }) =>
  decodeJournal(r.journal).records.map((b) => Buffer.from(b).toString("hex"));
const FRESH = ["0100000000000000", "0000000000000000", Buffer.from("seed").toString("hex")];

describe("memory pool", () => {
  it("a run never sees the memory of the run before it (same module, another module, a trapped run, a grown memory)", () => {
    const engine = new Engine();
    const plain = engine.compile(probe(""));
    const grows = engine.compile(probe("(drop (memory.grow (i32.const 2)))"));
    const traps = engine.compile(probe("(unreachable)"));
    for (let i = 0; i < 3; i++) expect(records(runModule(engine, plain, { readings: [] }))).toEqual(FRESH);
    expect(records(runModule(engine, traps, { readings: [] }))).toEqual([]);
    expect(records(runModule(engine, plain, { readings: [] }))).toEqual(FRESH);
    for (let i = 0; i < 3; i++) expect(records(runModule(engine, grows, { readings: [] }))).toEqual(FRESH);
    expect(records(runModule(engine, plain, { readings: [] }))).toEqual(FRESH);
    const a = runModule(engine, plain, { readings: [] });
    const b = runModule(new Engine(), new Engine().compile(probe("")), { readings: [] });
    expect(a.journalDigest).toBe(b.journalDigest);
  });

  it("an Instance runs once: its memory has gone back to the pool", async () => {
    const { Instance } = await import("./instance.ts");
    const { Store } = await import("./store.ts");
    const engine = new Engine();
    const inst = Instance.instantiate(engine.compile(probe("")), new Store(engine, { input: new Uint8Array(0) }));
    expect(inst.run().trap).toBeNull();
    expect(() => inst.run()).toThrow(RuntimeInputError);
    expect(() => inst.run()).toThrow(/twice/);
  });
});
