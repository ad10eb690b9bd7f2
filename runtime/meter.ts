/**
 * Fuel metering: a binaryen pass over the validated module. Costs are summed per straight-line region and charged
 * once when the region is entered: at function entry, at every loop header (so every back-edge pays for the next
 * iteration) and at if-arms whose cost is above IF_FOLD. Small if-arms are folded into the enclosing region at
 * the cost of the larger arm, so a region may be overcharged, never undercharged, and the charge is the same on
 * every host. The fuel counter is an i64 global; only function entries and loop headers test it (every unbounded
 * execution passes through one), and the host tests it once more when the run ends. docs/fuel.md is the table.
 *
 * memory.grow is routed through a helper that traps with Trap.MemoryLimit instead of returning -1, so an applet
 * that asks for more memory than its cap stops cleanly and deterministically.
 */
import binaryen from "binaryen";

import { DEFAULT_COST, FUEL_COSTS, FUEL_GLOBAL, IF_FOLD, TRAP_CODE, TRAP_GLOBAL } from "./fuel.ts";

export { DEFAULT_COST, FUEL_COSTS, IF_FOLD };
const GROW_HELPER = "__mfi_grow";

const FEATURES =
  binaryen.Features.MutableGlobals |
  binaryen.Features.SignExt |
  binaryen.Features.BulkMemory |
  binaryen.Features.BulkMemoryOpt |
  binaryen.Features.Multivalue |
  binaryen.Features.CallIndirectOverlong |
  binaryen.Features.ReferenceTypes;

const DIVREM = new Set([
  binaryen.DivSInt32, binaryen.DivUInt32, binaryen.RemSInt32, binaryen.RemUInt32,
  binaryen.DivSInt64, binaryen.DivUInt64, binaryen.RemSInt64, binaryen.RemUInt64,
]);

// binaryen.js has per-expression accessor classes (binaryen.Loop.getBody, ...) that its .d.ts does not declare.
const E = binaryen as unknown as Record<string, Record<string, (expr: number, value?: number) => number>>;
const L = binaryen as unknown as Record<string, Record<string, (expr: number) => number[]>>;

export class MeterError extends Error {
  override name = "MeterError";
}

/** Returns the metered module bytes. `memoryMaxPages` is the module's own (validated) maximum. */
export function meterModule(wasm: Uint8Array, memoryMaxPages: number): Uint8Array {
  const m = (binaryen.readBinary as (b: Uint8Array, f: number) => binaryen.Module)(wasm, FEATURES);
  try {
    m.addGlobal(FUEL_GLOBAL, binaryen.i64, true, m.i64.const(0n));
    m.addGlobal(TRAP_GLOBAL, binaryen.i32, true, m.i32.const(0));
    m.addGlobalExport(FUEL_GLOBAL, FUEL_GLOBAL);
    m.addGlobalExport(TRAP_GLOBAL, TRAP_GLOBAL);

    const charge = (cost: number, check: boolean): binaryen.ExpressionRef[] => {
      const out = [m.global.set(FUEL_GLOBAL, m.i64.sub(m.global.get(FUEL_GLOBAL, binaryen.i64), m.i64.const(BigInt(cost))))];
      if (check) out.push(m.if(m.i64.lt_s(m.global.get(FUEL_GLOBAL, binaryen.i64), m.i64.const(0n)), m.unreachable()));
      return out;
    };
    const prepend = (expr: binaryen.ExpressionRef, cost: number, check: boolean): binaryen.ExpressionRef =>
      cost === 0 && !check ? expr : m.block(null, [...charge(cost, check), expr], binaryen.getExpressionType(expr));

    /** Static cost of `expr` in its region; loops and large if-arms are instrumented as their own regions. */
    const sum = (xs: number[]) => xs.reduce((a, c) => a + visit(c), 0);
    /** Static cost of `expr` in its region; loops and large if-arms are instrumented as their own regions. */
    const visit = (expr: binaryen.ExpressionRef): number => {
      if (!expr) return 0;
      const id = binaryen.getExpressionId(expr);
      switch (id) {
        case binaryen.BlockId:
          return sum(L.Block.getChildren(expr));
        case binaryen.LoopId: {
          const body = E.Loop.getBody(expr);
          const cost = visit(body) + FUEL_COSTS.loop;
          E.Loop.setBody(expr, prepend(body, cost, true));
          return 0;
        }
        case binaryen.IfId: {
          const ifTrue = E.If.getIfTrue(expr);
          const ifFalse = E.If.getIfFalse(expr);
          const cond = visit(E.If.getCondition(expr));
          const t = visit(ifTrue);
          const f = visit(ifFalse);
          if (t <= IF_FOLD && f <= IF_FOLD) return cond + FUEL_COSTS.if + Math.max(t, f);
          if (t) E.If.setIfTrue(expr, prepend(ifTrue, t, false));
          if (f) E.If.setIfFalse(expr, prepend(ifFalse, f, false));
          return cond + FUEL_COSTS.if;
        }
        case binaryen.BreakId:
          return FUEL_COSTS.br + visit(E.Break.getCondition(expr)) + visit(E.Break.getValue(expr));
        case binaryen.SwitchId:
          return FUEL_COSTS.br + visit(E.Switch.getCondition(expr)) + visit(E.Switch.getValue(expr));
        case binaryen.CallId:
          return FUEL_COSTS.call + sum(L.Call.getOperands(expr));
        case binaryen.CallIndirectId:
          return FUEL_COSTS.call_indirect + visit(E.CallIndirect.getTarget(expr)) + sum(L.CallIndirect.getOperands(expr));
        case binaryen.LocalGetId:
        case binaryen.GlobalGetId:
        case binaryen.ConstId:
        case binaryen.MemorySizeId:
          return 1;
        case binaryen.LocalSetId:
          return 1 + visit(E.LocalSet.getValue(expr));
        case binaryen.GlobalSetId:
          return 1 + visit(E.GlobalSet.getValue(expr));
        case binaryen.UnaryId:
          return 1 + visit(E.Unary.getValue(expr));
        case binaryen.DropId:
          return FUEL_COSTS.drop + visit(E.Drop.getValue(expr));
        case binaryen.ReturnId:
          return FUEL_COSTS.return + visit(E.Return.getValue(expr));
        case binaryen.LoadId:
          return FUEL_COSTS["load/store"] + visit(E.Load.getPtr(expr));
        case binaryen.StoreId:
          return FUEL_COSTS["load/store"] + visit(E.Store.getPtr(expr)) + visit(E.Store.getValue(expr));
        case binaryen.BinaryId:
          return (DIVREM.has(E.Binary.getOp(expr)) ? FUEL_COSTS["div/rem"] : 1) + visit(E.Binary.getLeft(expr)) + visit(E.Binary.getRight(expr));
        case binaryen.SelectId:
          return FUEL_COSTS.select + visit(E.Select.getIfTrue(expr)) + visit(E.Select.getIfFalse(expr)) + visit(E.Select.getCondition(expr));
        case binaryen.MemoryGrowId: {
          const delta = E.MemoryGrow.getDelta(expr);
          const cost = FUEL_COSTS["memory.grow"] + visit(delta);
          E.MemoryGrow.setDelta(expr, m.call(GROW_HELPER, [delta], binaryen.i32));
          return cost;
        }
        case binaryen.MemoryCopyId:
          return FUEL_COSTS["memory.copy/fill/init"] + visit(E.MemoryCopy.getDest(expr)) + visit(E.MemoryCopy.getSource(expr)) + visit(E.MemoryCopy.getSize(expr));
        case binaryen.MemoryFillId:
          return FUEL_COSTS["memory.copy/fill/init"] + visit(E.MemoryFill.getDest(expr)) + visit(E.MemoryFill.getValue(expr)) + visit(E.MemoryFill.getSize(expr));
        case binaryen.MemoryInitId:
          return FUEL_COSTS["memory.copy/fill/init"] + visit(E.MemoryInit.getDest(expr)) + visit(E.MemoryInit.getOffset(expr)) + visit(E.MemoryInit.getSize(expr));
        case binaryen.RefNullId:
          return 1;
        case binaryen.NopId:
        case binaryen.UnreachableId:
        case binaryen.DataDropId:
          return 0;
        case binaryen.TupleMakeId:
          return sum(L.TupleMake.getOperands(expr));
        case binaryen.TupleExtractId:
          return visit(E.TupleExtract.getTuple(expr));
        default:
          throw new MeterError(`the metering pass does not know binaryen expression id ${id}`);
      }
    };

    const n = m.getNumFunctions();
    const funcs: binaryen.FunctionRef[] = [];
    for (let i = 0; i < n; i++) funcs.push(m.getFunctionByIndex(i));
    for (const f of funcs) {
      const fi = binaryen.getFunctionInfo(f);
      if (fi.module !== "") continue; // imports have no body
      const body = fi.body;
      const cost = visit(body) + 1;
      E.Function.setBody(f, prepend(body, cost, true));
    }

    // Added after the walk so the helper itself is not metered (its cost is in FUEL_COSTS["memory.grow"]).
    m.addFunction(
      GROW_HELPER,
      binaryen.createType([binaryen.i32]),
      binaryen.i32,
      [],
      m.block(null, [
        m.if(
          m.i32.gt_u(m.local.get(0, binaryen.i32), m.i32.sub(m.i32.const(memoryMaxPages), m.memory.size())),
          m.block(null, [m.global.set(TRAP_GLOBAL, m.i32.const(TRAP_CODE.memoryLimit)), m.unreachable()]),
        ),
        m.local.get(0, binaryen.i32),
      ], binaryen.i32),
    );
    if (!m.validate()) throw new MeterError("the metered module did not validate (a bug in runtime/meter.ts)");
    return m.emitBinary();
  } finally {
    m.dispose();
  }
}
