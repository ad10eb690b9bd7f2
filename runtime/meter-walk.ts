/**
 * The walk over a function body: the static cost of each straight-line region (docs/fuel.md), charged where the
 * region is entered. Loops and large if-arms become regions of their own; small if-arms fold into the enclosing one
 * at the cost of the larger arm. Children are re-seated as the walk leaves them (meter-calls.ts).
 */
import binaryen from "binaryen";
import { MeterError } from "./errors.ts";
import { FUEL_COSTS, IF_FOLD } from "./fuel.ts";
import { reseat } from "./meter-calls.ts";
import { E, L, type FunctionMeter } from "./meter-frame.ts";

/** memory.grow goes through this helper (meter-host.ts adds it), which traps MemoryLimit past the cap. */
export const GROW_HELPER = "__mfi_grow";

const DIVREM = new Set([
  binaryen.DivSInt32,
  binaryen.DivUInt32,
  binaryen.RemSInt32,
  binaryen.RemUInt32,
  binaryen.DivSInt64,
  binaryen.DivUInt64,
  binaryen.RemSInt64,
  binaryen.RemUInt64,
]);

/** A region: its cost, and its expression re-seated. */
export function region(fm: FunctionMeter, c: binaryen.ExpressionRef): [number, binaryen.ExpressionRef] {
  const cost = visit(fm, c);
  return [cost, reseat(fm, c)];
}

/** Visit a child, then re-seat it (wrapped) if it is a call. */
function child(fm: FunctionMeter, c: binaryen.ExpressionRef, set: (e: binaryen.ExpressionRef) => void): number {
  if (!c) return 0;
  const cost = visit(fm, c);
  const r = reseat(fm, c);
  if (r !== c) set(r);
  return cost;
}

/** The children of `expr` in the named slots (binaryen's get<Slot>/set<Slot>), in evaluation order. */
function slots(fm: FunctionMeter, expr: binaryen.ExpressionRef, cls: string, names: string[]): number {
  return names.reduce((acc, n) => acc + child(fm, E[cls]![`get${n}`]!(expr), (v) => E[cls]![`set${n}`]!(expr, v)), 0);
}

/** The children of `expr` in a list slot (a block's children, a call's operands). */
function list(fm: FunctionMeter, expr: binaryen.ExpressionRef, cls: string, getAll: string, setAt: string): number {
  return L[cls]![getAll]!(expr).reduce(
    (acc, c, i) =>
      acc + child(fm, c, (v) => (E[cls]![setAt] as (e: number, i: number, v: number) => number)(expr, i, v)),
    0,
  );
}

/** Static cost of `expr` in its region; loops and large if-arms are instrumented as their own regions. */
function visit(fm: FunctionMeter, expr: binaryen.ExpressionRef): number {
  if (!expr) return 0;
  const id = binaryen.getExpressionId(expr);
  switch (id) {
    case binaryen.BlockId:
      return list(fm, expr, "Block", "getChildren", "setChildAt");
    case binaryen.LoopId:
      return visitLoop(fm, expr);
    case binaryen.IfId:
      return visitIf(fm, expr);
    case binaryen.BreakId:
      return FUEL_COSTS.br + slots(fm, expr, "Break", ["Condition", "Value"]);
    case binaryen.SwitchId:
      return FUEL_COSTS.br + slots(fm, expr, "Switch", ["Condition", "Value"]);
    case binaryen.CallId:
      if (fm.twins.has(E.Call!.getTarget!(expr) as unknown as string)) fm.calls = true;
      return FUEL_COSTS.call + list(fm, expr, "Call", "getOperands", "setOperandAt");
    case binaryen.CallIndirectId:
      fm.calls = true;
      return (
        FUEL_COSTS.call_indirect +
        slots(fm, expr, "CallIndirect", ["Target"]) +
        list(fm, expr, "CallIndirect", "getOperands", "setOperandAt")
      );
    case binaryen.LocalGetId:
      // The counter parameter goes after the original ones: locals from there on move up by one.
      if (E.LocalGet!.getIndex!(expr) >= fm.nParams) E.LocalGet!.setIndex!(expr, E.LocalGet!.getIndex!(expr) + 1);
      return 1;
    case binaryen.GlobalGetId:
    case binaryen.ConstId:
    case binaryen.MemorySizeId:
    case binaryen.RefNullId:
      return 1;
    case binaryen.LocalSetId:
      if (E.LocalSet!.getIndex!(expr) >= fm.nParams) E.LocalSet!.setIndex!(expr, E.LocalSet!.getIndex!(expr) + 1);
      return 1 + slots(fm, expr, "LocalSet", ["Value"]);
    case binaryen.GlobalSetId:
      return 1 + slots(fm, expr, "GlobalSet", ["Value"]);
    case binaryen.UnaryId:
      return 1 + slots(fm, expr, "Unary", ["Value"]);
    case binaryen.DropId:
      return FUEL_COSTS.drop + slots(fm, expr, "Drop", ["Value"]);
    case binaryen.ReturnId: {
      const cost = FUEL_COSTS.return + slots(fm, expr, "Return", ["Value"]);
      E.Return!.setValue!(expr, fm.withCounter(E.Return!.getValue!(expr)));
      return cost;
    }
    case binaryen.LoadId:
      return FUEL_COSTS["load/store"] + slots(fm, expr, "Load", ["Ptr"]);
    case binaryen.StoreId:
      return FUEL_COSTS["load/store"] + slots(fm, expr, "Store", ["Ptr", "Value"]);
    case binaryen.BinaryId:
      return (
        (DIVREM.has(E.Binary!.getOp!(expr)) ? FUEL_COSTS["div/rem"] : 1) + slots(fm, expr, "Binary", ["Left", "Right"])
      );
    case binaryen.SelectId:
      return FUEL_COSTS.select + slots(fm, expr, "Select", ["IfTrue", "IfFalse", "Condition"]);
    case binaryen.MemoryGrowId:
      return visitMemoryGrow(fm, expr);
    case binaryen.MemoryCopyId:
      return FUEL_COSTS["memory.copy/fill/init"] + slots(fm, expr, "MemoryCopy", ["Dest", "Source", "Size"]);
    case binaryen.MemoryFillId:
      return FUEL_COSTS["memory.copy/fill/init"] + slots(fm, expr, "MemoryFill", ["Dest", "Value", "Size"]);
    case binaryen.MemoryInitId:
      return FUEL_COSTS["memory.copy/fill/init"] + slots(fm, expr, "MemoryInit", ["Dest", "Offset", "Size"]);
    case binaryen.NopId:
    case binaryen.UnreachableId:
    case binaryen.DataDropId:
      return 0;
    case binaryen.TupleMakeId:
      return list(fm, expr, "TupleMake", "getOperands", "setOperandAt");
    case binaryen.TupleExtractId:
      return slots(fm, expr, "TupleExtract", ["Tuple"]);
    default:
      throw new MeterError(`the metering pass does not know binaryen expression id ${id}`);
  }
}

/** A loop header charges its body's region (so every back-edge pays for the next iteration) and tests the counter. */
function visitLoop(fm: FunctionMeter, expr: binaryen.ExpressionRef): number {
  const [cost, body] = region(fm, E.Loop!.getBody!(expr));
  E.Loop!.setBody!(expr, fm.prepend(body, cost + FUEL_COSTS.loop, true));
  return 0;
}

/** Arms both at most IF_FOLD fold into the enclosing region at the larger arm's cost; else each charges its own. */
function visitIf(fm: FunctionMeter, expr: binaryen.ExpressionRef): number {
  const cond = child(fm, E.If!.getCondition!(expr), (v) => E.If!.setCondition!(expr, v));
  const [t, ifTrue] = region(fm, E.If!.getIfTrue!(expr));
  const falseExpr = E.If!.getIfFalse!(expr);
  const [f, ifFalse] = falseExpr ? region(fm, falseExpr) : [0, 0];
  const fold = t <= IF_FOLD && f <= IF_FOLD;
  E.If!.setIfTrue!(expr, fold || !t ? ifTrue : fm.prepend(ifTrue, t, false));
  if (falseExpr) E.If!.setIfFalse!(expr, fold || !f ? ifFalse : fm.prepend(ifFalse, f, false));
  return cond + FUEL_COSTS.if + (fold ? Math.max(t, f) : 0);
}

/** memory.grow through GROW_HELPER, synced before it (after the delta ran): a MemoryLimit trap reports exact fuel. */
function visitMemoryGrow(fm: FunctionMeter, expr: binaryen.ExpressionRef): number {
  const m = fm.m;
  const cost = FUEL_COSTS["memory.grow"] + slots(fm, expr, "MemoryGrow", ["Delta"]);
  const t = fm.tempOf(binaryen.i32);
  E.MemoryGrow!.setDelta!(
    expr,
    m.block(
      null,
      [
        m.local.set(t, E.MemoryGrow!.getDelta!(expr)),
        fm.sync(),
        m.call(GROW_HELPER, [m.local.get(t, binaryen.i32)], binaryen.i32),
      ],
      binaryen.i32,
    ),
  );
  return cost;
}
