/**
 * Fuel must be exact (issue 16). A proof will state "this run finished within its fuel", so fuel must mean one
 * thing: a run with fuel N finishes iff N ≥ its fuelUsed. The meter synced its counter to the host before a host
 * call's operands ran and reloaded it after the call, so what the operands charged (AssemblyScript allocates, and
 * grows memory, inside `input_read(__alloc(n), …)`) was tested against the limit but left out of fuelUsed:
 * energy-sum on a one-device epoch reported 1,327 and needed 4,112. Here every example applet, on each of its
 * fixtures (one device) and on all of them together (several devices), finishes with exactly its reported fuel,
 * with the same journal and state root, and traps OutOfFuel one unit short.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Engine, Trap, type AppletReading, type AppletState } from "../../runtime/index.ts";
import { listApplets, loadBuiltApplet, manifestConfig, parseReadingsJson } from "../../toolchain/index.ts";
import { fuelRuns, outcome } from "../../runtime/testing.ts";

describe("fuel is exact", () => {
  const engine = new Engine();
  for (const a of listApplets()) {
    it(`${a.name}: --fuel fuelUsed finishes with the same journal and state root, --fuel fuelUsed − 1 traps OutOfFuel`, () => {
      const module = engine.compile(loadBuiltApplet(a.name));
      const config = manifestConfig(a.manifest);
      const dir = join(a.dir, "fixtures");
      const fixtures = readdirSync(dir)
        .filter((f) => f.endsWith(".json"))
        .map((f) => parseReadingsJson(readFileSync(join(dir, f), "utf8")));
      const oneDevice = fixtures.flatMap((rs) =>
        [...new Set(rs.map((r) => r.deviceId))].map((id) => rs.filter((r) => r.deviceId === id)),
      );
      const inputs: AppletReading[][] = [...oneDevice, ...fixtures, []];
      let state: AppletState | undefined;
      for (const readings of inputs) {
        const { n, free, exact, short } = fuelRuns(engine, module, { readings, config, state });
        expect(free.trap).toBeNull();
        expect(outcome(exact)).toEqual(outcome(free));
        expect(short?.trap?.kind).toBe(Trap.OutOfFuel);
        expect(short?.fuelUsed).toBe(n - 1);
        state = free.state;
      }
    });
  }
});
