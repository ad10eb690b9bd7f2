/**
 * Calls in a metered function, re-seated after the walk has charged their operands: a direct call to a defined
 * function goes to its twin (the counter passed in and handed back), a call to a host function or through the table
 * goes between a sync of the global and a reload of $f. An `unreachable` of the applet's own gets a sync too.
 */
import binaryen from "binaryen";
import { MeterError } from "./errors.ts";
import { E, L, type FunctionMeter, type Twin } from "./meter-frame.ts";

/**
 * Calls are re-seated (metered); an `unreachable` of the applet's own gets a sync first, so a run that stops
 * there reports every unit it was charged (the N / N−1 rule holds for it too; only Wasm's own faults, such as an
 * out-of-bounds access, report fuel as of the last sync). It costs nothing on paths that do not trap.
 */
export function reseat(fm: FunctionMeter, c: binaryen.ExpressionRef): binaryen.ExpressionRef {
  const id = binaryen.getExpressionId(c);
  if (id === binaryen.CallId || id === binaryen.CallIndirectId) return meterCall(fm, c);
  return id === binaryen.UnreachableId ? fm.m.block(null, [fm.sync(), c]) : c;
}

/** A call, metered: to the twin of a defined function, else between a sync and a reload of $f. */
function meterCall(fm: FunctionMeter, call: binaryen.ExpressionRef): binaryen.ExpressionRef {
  const m = fm.m;
  const type = binaryen.getExpressionType(call);
  const twin =
    binaryen.getExpressionId(call) === binaryen.CallId
      ? fm.twins.get(E.Call!.getTarget!(call) as unknown as string)
      : undefined;
  if (twin && type !== binaryen.unreachable) return callTwin(fm, call, twin);
  const reload = fm.reload();
  if (type === binaryen.unreachable) return m.block(null, [fm.sync(), call]);
  const synced = syncAfterOperands(fm, call);
  if (type === binaryen.none) return m.block(null, [synced, reload], binaryen.none);
  if (type !== binaryen.i32 && type !== binaryen.i64)
    throw new MeterError("the metering pass supports only i32/i64 call results");
  const t = fm.tempOf(type);
  return m.block(null, [m.local.set(t, synced), reload, m.local.get(t, type)], type);
}

/** A direct call to a metered function, as a call to its twin that passes $f and takes the counter back. */
function callTwin(fm: FunctionMeter, call: binaryen.ExpressionRef, twin: Twin): binaryen.ExpressionRef {
  const m = fm.m;
  const args = [...L.Call!.getOperands!(call), fm.fuel()];
  const c = m.call(twin.name, args, twin.results);
  if (twin.results === binaryen.i64) return m.local.set(fm.fuelLocal, c);
  const t = fm.tempOf(twin.results);
  return m.block(
    null,
    [
      m.local.set(t, c),
      m.local.set(fm.fuelLocal, m.tuple.extract(m.local.get(t, twin.results), 1)),
      m.tuple.extract(m.local.get(t, twin.results), 0),
    ],
    binaryen.expandType(twin.results)[0],
  );
}

/**
 * The call with the global synced after its operands are evaluated, not before: an operand can charge $f (a call
 * to a metered function, a loop, a large if-arm: AssemblyScript's `input_read(__alloc(n), …)` grows memory
 * there), and a sync placed first let the reload after the call drop those charges from the count while the
 * limit had been tested against them (fuelUsed far below the least fuel that finishes: issue 16). The sync goes
 * into the operand evaluated last (the table index for call_indirect), around a temp unless it is a plain read.
 */
function syncAfterOperands(fm: FunctionMeter, call: binaryen.ExpressionRef): binaryen.ExpressionRef {
  const m = fm.m;
  const indirect = binaryen.getExpressionId(call) === binaryen.CallIndirectId;
  const ops = L[indirect ? "CallIndirect" : "Call"]!.getOperands!(call);
  const last = indirect ? E.CallIndirect!.getTarget!(call) : ops[ops.length - 1];
  if (last === undefined) return m.block(null, [fm.sync(), call], binaryen.getExpressionType(call));
  const type = binaryen.getExpressionType(last);
  let synced: binaryen.ExpressionRef;
  const id = binaryen.getExpressionId(last);
  if (id === binaryen.ConstId || id === binaryen.LocalGetId || id === binaryen.GlobalGetId)
    synced = m.block(null, [fm.sync(), last], type);
  else {
    if (type !== binaryen.i32 && type !== binaryen.i64)
      throw new MeterError("the metering pass supports only i32/i64 call operands");
    const t = fm.tempOf(type);
    synced = m.block(null, [m.local.set(t, last), fm.sync(), m.local.get(t, type)], type);
  }
  if (indirect) E.CallIndirect!.setTarget!(call, synced);
  else (E.Call!.setOperandAt as unknown as (e: number, i: number, v: number) => void)(call, ops.length - 1, synced);
  return call;
}
