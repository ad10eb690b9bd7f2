/**
 * What the host needs of a metered module, added after the functions are metered (so none of it is metered itself):
 * the memory.grow helper that traps at the cap, fuel get/set/charge exports, __mfi_reset, and the memory as an import.
 */
import binaryen from "binaryen";
import { MEMORY_EXPORT } from "./abi.ts";
import { FUEL_GLOBAL, MEMORY_IMPORT, RESET_EXPORT, TRAP_CODE, TRAP_GLOBAL } from "./fuel.ts";
import { GROW_HELPER } from "./meter-walk.ts";

export function addHostInterface(m: binaryen.Module, memoryMaxPages: number): void {
  // Added after the walk so the helper itself is not metered (its cost is in FUEL_COSTS["memory.grow"]).
  m.addFunction(
    GROW_HELPER,
    binaryen.createType([binaryen.i32]),
    binaryen.i32,
    [],
    m.block(
      null,
      [
        m.if(
          m.i32.gt_u(m.local.get(0, binaryen.i32), m.i32.sub(m.i32.const(memoryMaxPages), m.memory.size())),
          m.block(null, [m.global.set(TRAP_GLOBAL, m.i32.const(TRAP_CODE.memoryLimit)), m.unreachable()]),
        ),
        m.local.get(0, binaryen.i32),
      ],
      binaryen.i32,
    ),
  );
  // The fuel counter is a private global; the host reads and writes it through these (unmetered) functions.
  m.addFunction(FUEL_GLOBAL + "_get", binaryen.none, binaryen.i64, [], m.global.get(FUEL_GLOBAL, binaryen.i64));
  m.addFunction(
    FUEL_GLOBAL + "_set",
    binaryen.createType([binaryen.i64]),
    binaryen.none,
    [],
    m.global.set(FUEL_GLOBAL, m.local.get(0, binaryen.i64)),
  );
  // Host calls charge through _charge(units) -> exhausted?: one call with a number instead of a get and a set of
  // bigints. Units are at most a memory's bytes / 8, far from what could overflow the counter.
  m.addFunction(
    FUEL_GLOBAL + "_charge",
    binaryen.createType([binaryen.i32]),
    binaryen.i32,
    [],
    m.block(
      null,
      [
        m.global.set(
          FUEL_GLOBAL,
          m.i64.sub(m.global.get(FUEL_GLOBAL, binaryen.i64), m.i64.extend_u(m.local.get(0, binaryen.i32))),
        ),
        m.i64.lt_s(m.global.get(FUEL_GLOBAL, binaryen.i64), m.i64.const(0n)),
      ],
      binaryen.i32,
    ),
  );
  m.addFunctionExport(FUEL_GLOBAL + "_charge", FUEL_GLOBAL + "_charge");
  m.addFunctionExport(FUEL_GLOBAL + "_get", FUEL_GLOBAL + "_get");
  m.addFunctionExport(FUEL_GLOBAL + "_set", FUEL_GLOBAL + "_set");
  // __mfi_reset puts every mutable global (ours included) back to its initial value, so the host can run an
  // instance again instead of instantiating anew (instance-pool.ts; the memory it resets itself). Initialisers
  // are constant expressions, so copying them gives exactly the values a new instance starts with.
  const resets: binaryen.ExpressionRef[] = [];
  for (let i = 0; i < m.getNumGlobals(); i++) {
    const g = binaryen.getGlobalInfo(m.getGlobalByIndex(i));
    if (g.mutable && !g.module) resets.push(m.global.set(g.name, m.copyExpression(g.init)));
  }
  m.addFunction(RESET_EXPORT, binaryen.none, binaryen.none, [], m.block(null, resets));
  m.addFunctionExport(RESET_EXPORT, RESET_EXPORT);
  // The memory (limits and data segments unchanged) becomes an import the host fills from its pool.
  // (The validator made sure the one memory is exported as MEMORY_EXPORT, which gives its internal name.)
  m.addMemoryImport(binaryen.getExportInfo(m.getExport(MEMORY_EXPORT)).value, MEMORY_IMPORT.module, MEMORY_IMPORT.name);
}
