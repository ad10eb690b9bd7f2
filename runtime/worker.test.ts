import { afterAll, describe, expect, it } from "vitest";
import { Engine } from "./engine.ts";
import { ValidationError } from "./errors.ts";
import { runModule } from "./run.ts";
import { MAX_FUEL } from "./fuel.ts";
import { Trap } from "./trap.ts";
import { appletWat } from "./wat.ts";
import { WorkerRunner } from "./worker.ts";

const runner = new WorkerRunner({ fuel: 1_000_000 });
afterAll(() => runner.close());

const good = appletWat({ main: `(i64.store (i32.const 0) (i64.const 9)) (call $claim (i32.const 0) (i64.const 7)) (call $log (i32.const 0) (i32.const 1))` });
const readings = [{ deviceId: 9n, seq: 1n, ts: 5n, values: [1n] }];

describe("WorkerRunner (watchdog)", () => {
  it("returns the same result as the in-process runtime", async () => {
    const inWorker = await runner.run(good, { readings });
    const engine = new Engine({ fuel: 1_000_000 });
    const local = runModule(engine, engine.compile(good), { readings });
    expect(inWorker.journalDigest).toBe(local.journalDigest);
    expect(inWorker.fuelUsed).toBe(local.fuelUsed);
    expect(Buffer.from(inWorker.journal)).toEqual(Buffer.from(local.journal));
  });

  it("kills a run that outlives the wall-clock watchdog and keeps working", async () => {
    // A host bug stand-in: enough fuel that only the watchdog can stop this loop in time.
    const spin = appletWat({ main: `(loop $l (br $l))` });
    const r = await runner.run(spin, { readings, fuel: MAX_FUEL }, 300);
    expect(r.trap?.kind).toBe(Trap.HostError);
    expect(r.trap?.message).toMatch(/watchdog/);
    const after = await runner.run(good, { readings });
    expect(after.trap).toBeNull();
  });

  it("rejects with a typed ValidationError for a refused module", async () => {
    await expect(runner.run(appletWat({ main: `(drop (f64.const 1))` }), { readings })).rejects.toBeInstanceOf(ValidationError);
    expect((await runner.run(good, { readings })).trap).toBeNull();
  });
});
