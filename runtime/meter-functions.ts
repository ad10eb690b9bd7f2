/**
 * The metering pass over the applet's own functions (meter.ts runs it between adding its globals and the host
 * interface): each defined function f gets a metered twin f$m that charges fuel per region and tracks call depth; f
 * stays as a thin wrapper (see the comment below). The builders are closures over the function being metered.
 */
import binaryen from "binaryen";
import { MeterError } from "./errors.ts";
import {
  DEFAULT_COST,
  DEPTH_GLOBAL,
  FUEL_COSTS,
  FUEL_GLOBAL,
  IF_FOLD,
  STACK_BUDGET,
  TRAP_CODE,
  TRAP_GLOBAL,
  frameWeight,
} from "./fuel.ts";

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

// binaryen.js has per-expression accessor classes (binaryen.Loop.getBody, ...) that its .d.ts does not declare.
const E = binaryen as unknown as Record<string, Record<string, (expr: number, value?: number) => number> | undefined>;
const L = binaryen as unknown as Record<string, Record<string, (expr: number) => number[]> | undefined>;

/** Meter every function the module defines (imports have no body). */
export function meterFunctions(m: binaryen.Module): void {
  // The counter travels with the calls: every defined function f becomes f$m with one more parameter (the counter
  // on entry) and one more result (the counter on exit), and inside it lives in that parameter ($f), so neither a
  // tight loop nor a call touches memory for it. The global is brought up to date only where someone else looks:
  // around calls to host functions and call_indirect (after their operands ran: they charge the global; $f is
  // reloaded after them), before a trap of the pass's own or the applet's `unreachable`, and when an export
  // returns. f itself stays, under its name, as a thin wrapper from the global (what exports, the table and the
  // host call), so the module's interface is unchanged. After a Wasm fault (out-of-bounds, division by zero)
  // fuelUsed is therefore as of the last such point: still deterministic.
  let fuelLocal = 0;
  let nParams = 0;
  let varTypes: number[] = [];
  let temps = new Map<number, number>();
  const tempOf = (type: number) => {
    let t = temps.get(type);
    if (t === undefined) {
      temps.set(type, (t = nParams + 1 + varTypes.length));
      varTypes.push(type);
    }
    return t;
  };
  const sync = () => m.global.set(FUEL_GLOBAL, m.local.get(fuelLocal, binaryen.i64));
  // Call depth (fuel.ts STACK_BUDGET): a function that calls others adds its weight to the depth global on entry
  // and takes it off at every exit; a leaf (it calls only host functions) only tests that its frame fits, since
  // nothing can run above it. `calls` is found during the walk, so the exits of `return`s are emitted as blocks
  // that are emptied afterwards if the function turns out to be a leaf.
  let weight = 1;
  let calls = false;
  let exits: binaryen.ExpressionRef[] = [];
  const depth = () => m.global.get(DEPTH_GLOBAL, binaryen.i32);
  const trapIf = (cond: binaryen.ExpressionRef, ...before: binaryen.ExpressionRef[]) =>
    m.if(cond, m.block(null, [...before, sync(), m.unreachable()]));
  /** Entry: charge the first region and push the frame; one branch tests both, the trap code says which. */
  const enter = (cost: number): binaryen.ExpressionRef[] => {
    const f = () => m.local.get(fuelLocal, binaryen.i64);
    // (A leaf heavier than the whole budget overflows on entry whatever the depth.)
    const over = (d: binaryen.ExpressionRef) =>
      calls
        ? m.i32.gt_u(d, m.i32.const(STACK_BUDGET))
        : weight > STACK_BUDGET
          ? m.i32.const(1)
          : m.i32.gt_u(d, m.i32.const(STACK_BUDGET - weight));
    return [
      m.local.set(fuelLocal, m.i64.sub(f(), m.i64.const(BigInt(cost)))),
      ...(calls ? [m.global.set(DEPTH_GLOBAL, m.i32.add(depth(), m.i32.const(weight)))] : []),
      trapIf(
        m.i32.or(m.i64.lt_s(f(), m.i64.const(0n)), over(depth())),
        m.if(over(depth()), m.global.set(TRAP_GLOBAL, m.i32.const(TRAP_CODE.stackOverflow))),
      ),
    ];
  };
  /** Pops the frame (a block, so a leaf's can be emptied once the walk has shown it is one). */
  const popFrame = () => {
    const b = m.block(null, [m.global.set(DEPTH_GLOBAL, m.i32.sub(depth(), m.i32.const(weight)))], binaryen.none);
    exits.push(b);
    return b;
  };
  /** The counter a function hands back to its caller, with its frame popped. */
  const exitCounter = () => m.block(null, [popFrame(), m.local.get(fuelLocal, binaryen.i64)], binaryen.i64);
  const charge = (cost: number, check: boolean): binaryen.ExpressionRef[] => {
    const out = [m.local.set(fuelLocal, m.i64.sub(m.local.get(fuelLocal, binaryen.i64), m.i64.const(BigInt(cost))))];
    if (check) out.push(trapIf(m.i64.lt_s(m.local.get(fuelLocal, binaryen.i64), m.i64.const(0n))));
    return out;
  };
  const prepend = (expr: binaryen.ExpressionRef, cost: number, check: boolean): binaryen.ExpressionRef =>
    m.block(null, [...charge(cost, check), expr], binaryen.getExpressionType(expr));
  /** What a metered function returns for `expr` (a return value or its fallthrough): the value and the counter. */
  const withCounter = (expr: binaryen.ExpressionRef | 0): binaryen.ExpressionRef => {
    if (!expr) return exitCounter();
    const type = binaryen.getExpressionType(expr);
    if (type === binaryen.unreachable) return expr;
    if (type === binaryen.none) return m.block(null, [expr, exitCounter()], binaryen.i64);
    if (type !== binaryen.i32 && type !== binaryen.i64)
      throw new MeterError("the metering pass supports only i32/i64 values here");
    return m.tuple.make([expr, exitCounter()]);
  };
  /** Metered functions by their original name: the metered twin's name and its result type (value, counter). */
  const twins = new Map<string, { name: string; results: number }>();
  const withCounterType = (results: number) => {
    if (results === binaryen.none) return binaryen.i64;
    if (results !== binaryen.i32 && results !== binaryen.i64)
      throw new MeterError("the metering pass supports only i32/i64 results");
    return binaryen.createType([results, binaryen.i64]);
  };
  /** A direct call to a metered function, as a call to its twin that passes $f and takes the counter back. */
  const callTwin = (call: binaryen.ExpressionRef, twin: { name: string; results: number }): binaryen.ExpressionRef => {
    const args = [...L.Call!.getOperands!(call), m.local.get(fuelLocal, binaryen.i64)];
    const c = m.call(twin.name, args, twin.results);
    if (twin.results === binaryen.i64) return m.local.set(fuelLocal, c);
    const t = tempOf(twin.results);
    return m.block(
      null,
      [
        m.local.set(t, c),
        m.local.set(fuelLocal, m.tuple.extract(m.local.get(t, twin.results), 1)),
        m.tuple.extract(m.local.get(t, twin.results), 0),
      ],
      binaryen.expandType(twin.results)[0],
    );
  };
  const isCall = (e: binaryen.ExpressionRef) => {
    const id = binaryen.getExpressionId(e);
    return id === binaryen.CallId || id === binaryen.CallIndirectId;
  };
  /**
   * A call, metered: a direct call to a defined function goes to its twin (counter passed and handed back); a call
   * to a host function or through the table goes between a sync and a reload of $f from the global.
   */
  const meterCall = (call: binaryen.ExpressionRef): binaryen.ExpressionRef => {
    const type = binaryen.getExpressionType(call);
    const twin =
      binaryen.getExpressionId(call) === binaryen.CallId
        ? twins.get(E.Call!.getTarget!(call) as unknown as string)
        : undefined;
    if (twin && type !== binaryen.unreachable) return callTwin(call, twin);
    const reload = m.local.set(fuelLocal, m.global.get(FUEL_GLOBAL, binaryen.i64));
    if (type === binaryen.unreachable) return m.block(null, [sync(), call]);
    const synced = syncAfterOperands(call);
    if (type === binaryen.none) return m.block(null, [synced, reload], binaryen.none);
    if (type !== binaryen.i32 && type !== binaryen.i64)
      throw new MeterError("the metering pass supports only i32/i64 call results");
    const t = tempOf(type);
    return m.block(null, [m.local.set(t, synced), reload, m.local.get(t, type)], type);
  };
  /**
   * The call with the global synced after its operands are evaluated, not before: an operand can charge $f (a call
   * to a metered function, a loop, a large if-arm: AssemblyScript's `input_read(__alloc(n), …)` grows memory
   * there), and a sync placed first let the reload after the call drop those charges from the count while the
   * limit had been tested against them (fuelUsed far below the least fuel that finishes: issue 16). The sync goes
   * into the operand evaluated last (the table index for call_indirect), around a temp unless it is a plain read.
   */
  const syncAfterOperands = (call: binaryen.ExpressionRef): binaryen.ExpressionRef => {
    const indirect = binaryen.getExpressionId(call) === binaryen.CallIndirectId;
    const ops = L[indirect ? "CallIndirect" : "Call"]!.getOperands!(call);
    const last = indirect ? E.CallIndirect!.getTarget!(call) : ops[ops.length - 1];
    if (last === undefined) return m.block(null, [sync(), call], binaryen.getExpressionType(call));
    const type = binaryen.getExpressionType(last);
    let synced: binaryen.ExpressionRef;
    const id = binaryen.getExpressionId(last);
    if (id === binaryen.ConstId || id === binaryen.LocalGetId || id === binaryen.GlobalGetId)
      synced = m.block(null, [sync(), last], type);
    else {
      if (type !== binaryen.i32 && type !== binaryen.i64)
        throw new MeterError("the metering pass supports only i32/i64 call operands");
      const t = tempOf(type);
      synced = m.block(null, [m.local.set(t, last), sync(), m.local.get(t, type)], type);
    }
    if (indirect) E.CallIndirect!.setTarget!(call, synced);
    else (E.Call!.setOperandAt as unknown as (e: number, i: number, v: number) => void)(call, ops.length - 1, synced);
    return call;
  };
  /**
   * Calls are re-seated (metered); an `unreachable` of the applet's own gets a sync first, so a run that stops
   * there reports every unit it was charged (the N / N−1 rule holds for it too; only Wasm's own faults, such as an
   * out-of-bounds access, report fuel as of the last sync). It costs nothing on paths that do not trap.
   */
  const reseat = (c: binaryen.ExpressionRef) =>
    isCall(c) ? meterCall(c) : binaryen.getExpressionId(c) === binaryen.UnreachableId ? m.block(null, [sync(), c]) : c;
  /** Visit a child, then re-seat it (wrapped) if it is a call. */
  const child = (c: binaryen.ExpressionRef, set: (e: binaryen.ExpressionRef) => void): number => {
    if (!c) return 0;
    const cost = visit(c);
    const r = reseat(c);
    if (r !== c) set(r);
    return cost;
  };
  const region = (c: binaryen.ExpressionRef): [number, binaryen.ExpressionRef] => {
    const cost = visit(c);
    return [cost, reseat(c)];
  };
  const slots = (expr: binaryen.ExpressionRef, cls: string, names: string[]) =>
    names.reduce((acc, n) => acc + child(E[cls]![`get${n}`]!(expr), (v) => E[cls]![`set${n}`]!(expr, v)), 0);
  const list = (expr: binaryen.ExpressionRef, cls: string, getAll: string, setAt: string) =>
    L[cls]![getAll]!(expr).reduce(
      (acc, c, i) => acc + child(c, (v) => (E[cls]![setAt] as (e: number, i: number, v: number) => number)(expr, i, v)),
      0,
    );

  /** Static cost of `expr` in its region; loops and large if-arms are instrumented as their own regions. */
  const visit = (expr: binaryen.ExpressionRef): number => {
    if (!expr) return 0;
    const id = binaryen.getExpressionId(expr);
    switch (id) {
      case binaryen.BlockId:
        return list(expr, "Block", "getChildren", "setChildAt");
      case binaryen.LoopId: {
        const [cost, body] = region(E.Loop!.getBody!(expr));
        E.Loop!.setBody!(expr, prepend(body, cost + FUEL_COSTS.loop, true));
        return 0;
      }
      case binaryen.IfId: {
        const cond = child(E.If!.getCondition!(expr), (v) => E.If!.setCondition!(expr, v));
        const [t, ifTrue] = region(E.If!.getIfTrue!(expr));
        const falseExpr = E.If!.getIfFalse!(expr);
        const [f, ifFalse] = falseExpr ? region(falseExpr) : [0, 0];
        const fold = t <= IF_FOLD && f <= IF_FOLD;
        E.If!.setIfTrue!(expr, fold || !t ? ifTrue : prepend(ifTrue, t, false));
        if (falseExpr) E.If!.setIfFalse!(expr, fold || !f ? ifFalse : prepend(ifFalse, f, false));
        return cond + FUEL_COSTS.if + (fold ? Math.max(t, f) : 0);
      }
      case binaryen.BreakId:
        return FUEL_COSTS.br + slots(expr, "Break", ["Condition", "Value"]);
      case binaryen.SwitchId:
        return FUEL_COSTS.br + slots(expr, "Switch", ["Condition", "Value"]);
      case binaryen.CallId:
        if (twins.has(E.Call!.getTarget!(expr) as unknown as string)) calls = true;
        return FUEL_COSTS.call + list(expr, "Call", "getOperands", "setOperandAt");
      case binaryen.CallIndirectId:
        calls = true;
        return (
          FUEL_COSTS.call_indirect +
          slots(expr, "CallIndirect", ["Target"]) +
          list(expr, "CallIndirect", "getOperands", "setOperandAt")
        );
      case binaryen.LocalGetId:
        // The counter parameter goes after the original ones: locals from there on move up by one.
        if (E.LocalGet!.getIndex!(expr) >= nParams) E.LocalGet!.setIndex!(expr, E.LocalGet!.getIndex!(expr) + 1);
        return 1;
      case binaryen.GlobalGetId:
      case binaryen.ConstId:
      case binaryen.MemorySizeId:
      case binaryen.RefNullId:
        return 1;
      case binaryen.LocalSetId:
        if (E.LocalSet!.getIndex!(expr) >= nParams) E.LocalSet!.setIndex!(expr, E.LocalSet!.getIndex!(expr) + 1);
        return 1 + slots(expr, "LocalSet", ["Value"]);
      case binaryen.GlobalSetId:
        return 1 + slots(expr, "GlobalSet", ["Value"]);
      case binaryen.UnaryId:
        return 1 + slots(expr, "Unary", ["Value"]);
      case binaryen.DropId:
        return FUEL_COSTS.drop + slots(expr, "Drop", ["Value"]);
      case binaryen.ReturnId: {
        const cost = FUEL_COSTS.return + slots(expr, "Return", ["Value"]);
        E.Return!.setValue!(expr, withCounter(E.Return!.getValue!(expr)));
        return cost;
      }
      case binaryen.LoadId:
        return FUEL_COSTS["load/store"] + slots(expr, "Load", ["Ptr"]);
      case binaryen.StoreId:
        return FUEL_COSTS["load/store"] + slots(expr, "Store", ["Ptr", "Value"]);
      case binaryen.BinaryId:
        return (
          (DIVREM.has(E.Binary!.getOp!(expr)) ? FUEL_COSTS["div/rem"] : 1) + slots(expr, "Binary", ["Left", "Right"])
        );
      case binaryen.SelectId:
        return FUEL_COSTS.select + slots(expr, "Select", ["IfTrue", "IfFalse", "Condition"]);
      case binaryen.MemoryGrowId: {
        const cost = FUEL_COSTS["memory.grow"] + slots(expr, "MemoryGrow", ["Delta"]);
        // Synced before the helper (after the delta ran), so a MemoryLimit trap reports the exact fuel used.
        const t = tempOf(binaryen.i32);
        E.MemoryGrow!.setDelta!(
          expr,
          m.block(
            null,
            [
              m.local.set(t, E.MemoryGrow!.getDelta!(expr)),
              sync(),
              m.call(GROW_HELPER, [m.local.get(t, binaryen.i32)], binaryen.i32),
            ],
            binaryen.i32,
          ),
        );
        return cost;
      }
      case binaryen.MemoryCopyId:
        return FUEL_COSTS["memory.copy/fill/init"] + slots(expr, "MemoryCopy", ["Dest", "Source", "Size"]);
      case binaryen.MemoryFillId:
        return FUEL_COSTS["memory.copy/fill/init"] + slots(expr, "MemoryFill", ["Dest", "Value", "Size"]);
      case binaryen.MemoryInitId:
        return FUEL_COSTS["memory.copy/fill/init"] + slots(expr, "MemoryInit", ["Dest", "Offset", "Size"]);
      case binaryen.NopId:
      case binaryen.UnreachableId:
      case binaryen.DataDropId:
        return 0;
      case binaryen.TupleMakeId:
        return list(expr, "TupleMake", "getOperands", "setOperandAt");
      case binaryen.TupleExtractId:
        return slots(expr, "TupleExtract", ["Tuple"]);
      default:
        throw new MeterError(`the metering pass does not know binaryen expression id ${id}`);
    }
  };

  const n = m.getNumFunctions();
  const defined: binaryen.FunctionInfo[] = [];
  for (let i = 0; i < n; i++) {
    const fi = binaryen.getFunctionInfo(m.getFunctionByIndex(i));
    if (fi.module !== "") continue; // imports have no body
    defined.push(fi);
    twins.set(fi.name, { name: `${fi.name}$m`, results: withCounterType(fi.results) });
  }
  for (const fi of defined) {
    const params = binaryen.expandType(fi.params);
    nParams = params.length;
    fuelLocal = nParams;
    varTypes = [...fi.vars];
    temps = new Map();
    weight = frameWeight(params.length + fi.vars.length);
    calls = false;
    exits = [];
    const [cost, body] = region(fi.body);
    const type = binaryen.getExpressionType(body);
    const twin = twins.get(fi.name)!;
    const metered = withCounter(
      m.block(null, [...enter(cost + 1), body], type === binaryen.unreachable ? undefined : type),
    );
    // A leaf pushed no frame (enter only tested that it fits), so it pops none.
    if (!calls) for (const b of exits) (E.Block!.removeChildAt as unknown as (e: number, i: number) => number)(b, 0);
    m.addFunction(twin.name, binaryen.createType([...params, binaryen.i64]), twin.results, varTypes, metered);
    // The original becomes the wrapper: counter from the global in, back to the global out (not metered itself).
    m.removeFunction(fi.name);
    const args = [...params.map((t, i) => m.local.get(i, t)), m.global.get(FUEL_GLOBAL, binaryen.i64)];
    const call = m.call(twin.name, args, twin.results);
    m.addFunction(
      fi.name,
      fi.params,
      fi.results,
      fi.results === binaryen.none ? [] : [twin.results],
      fi.results === binaryen.none
        ? m.global.set(FUEL_GLOBAL, call)
        : m.block(
            null,
            [
              m.local.set(nParams, call),
              m.global.set(FUEL_GLOBAL, m.tuple.extract(m.local.get(nParams, twin.results), 1)),
              m.tuple.extract(m.local.get(nParams, twin.results), 0),
            ],
            fi.results,
          ),
    );
  }
}
