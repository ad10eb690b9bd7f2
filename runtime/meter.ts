/**
 * Fuel metering: a binaryen pass over the validated module. Costs are summed per straight-line region and charged
 * once when the region is entered: at function entry, at every loop header (so every back-edge pays for the next
 * iteration) and at if-arms whose cost is above IF_FOLD. Small if-arms are folded into the enclosing region at
 * the cost of the larger arm, so a region may be overcharged, never undercharged, and the charge is the same on
 * every host. The fuel counter (remaining units) is passed along the calls (meter-functions.ts); call depth has a
 * global of its own; only function entries and loop headers test it (every unbounded execution passes through one),
 * and the host tests it once more when the run ends. docs/fuel.md is the table.
 *
 * memory.grow is routed through a helper that traps with Trap.MemoryLimit instead of returning -1, so an applet
 * that asks for more memory than its cap stops cleanly and deterministically.
 */
import binaryen from "binaryen";
import { Reader } from "./wasm-reader.ts";
import { MeterError } from "./errors.ts";
import { DEFAULT_COST, DEPTH_GLOBAL, FUEL_COSTS, FUEL_GLOBAL, IF_FOLD, TRAP_GLOBAL } from "./fuel.ts";
import { meterFunctions } from "./meter-functions.ts";
import { addHostInterface } from "./meter-host.ts";

export { DEFAULT_COST, FUEL_COSTS, IF_FOLD, MeterError };

const FEATURES =
  binaryen.Features.MutableGlobals |
  binaryen.Features.SignExt |
  binaryen.Features.BulkMemory |
  binaryen.Features.BulkMemoryOpt |
  binaryen.Features.Multivalue |
  binaryen.Features.CallIndirectOverlong |
  binaryen.Features.ReferenceTypes;

/** The pass's own globals: the fuel counter, the call depth, and the trap code the host reads. */
function addMeterGlobals(m: binaryen.Module): void {
  // Fuel is a plain down-counter of remaining units (negative once exhausted); call depth has its own global
  // (fuel.ts STACK_BUDGET), so neither one's bookkeeping can move the other.
  m.addGlobal(FUEL_GLOBAL, binaryen.i64, true, m.i64.const(0n));
  m.addGlobal(DEPTH_GLOBAL, binaryen.i32, true, m.i32.const(0));
  m.addGlobal(TRAP_GLOBAL, binaryen.i32, true, m.i32.const(0));
  m.addGlobalExport(TRAP_GLOBAL, TRAP_GLOBAL);
}

/** Returns the metered module bytes. `memoryMaxPages` is the module's own (validated) maximum. */
export function meterModule(wasm: Uint8Array, memoryMaxPages: number): Uint8Array {
  const m = (binaryen.readBinary as (b: Uint8Array, f: number) => binaryen.Module)(
    withoutReservedNames(wasm),
    FEATURES,
  );
  try {
    addMeterGlobals(m);
    meterFunctions(m);
    addHostInterface(m, memoryMaxPages);
    if (!m.validate()) throw new MeterError("the metered module did not validate (a bug in runtime/meter.ts)");
    return m.emitBinary();
  } catch (err) {
    // binaryen reports a fatal error by throwing a non-Error: make it a typed one (a bug here, not the applet's).
    if (err instanceof Error) throw err;
    throw new MeterError(`binaryen failed while metering the module: ${JSON.stringify(err)?.slice(0, 300)}`);
  } finally {
    m.dispose();
  }
}

/**
 * The module without its "name" custom section if that names anything `__mfi…`: binaryen takes internal names
 * from it, and a function or global of the applet named like one this pass adds would make binaryen abort instead
 * of metering. Names are only debug information; without them binaryen numbers functions and globals.
 */
function withoutReservedNames(wasm: Uint8Array): Uint8Array {
  const bytes = Buffer.from(wasm.buffer, wasm.byteOffset, wasm.byteLength);
  const kept: Uint8Array[] = [wasm.subarray(0, 8)];
  let dropped = false;
  for (const r = new Reader(wasm, 8); !r.done;) {
    const start = r.pos;
    const id = r.u8();
    const size = r.u32();
    const body = r.pos;
    r.pos = body + size;
    if (id === 0) {
      const name = new Reader(wasm, body, body + size);
      const len = name.u32();
      if (
        bytes.toString("latin1", name.pos, name.pos + len) === "name" &&
        bytes.subarray(body, body + size).includes("__mfi")
      ) {
        dropped = true;
        continue;
      }
    }
    kept.push(wasm.subarray(start, body + size));
  }
  return dropped ? Buffer.concat(kept) : wasm;
}
