/**
 * The metering pass over the applet's own functions (meter.ts runs it between adding its globals and the host
 * interface), in three steps: name a metered twin f$m for every defined function f, meter each body into its twin
 * (meter-walk.ts over a FunctionMeter, meter-frame.ts), and make f a thin wrapper that calls its twin.
 *
 * The counter travels with the calls: f$m has one more parameter (the counter on entry) and one more result (the
 * counter on exit), and inside it lives in that parameter ($f), so neither a tight loop nor a call touches memory for
 * it. The global is brought up to date only where someone else looks: around calls to host functions and
 * call_indirect (after their operands ran: they charge the global; $f is reloaded after them), before a trap of the
 * pass's own or the applet's `unreachable`, and when an export returns. f itself stays, under its name, as a thin
 * wrapper from the global (what exports, the table and the host call), so the module's interface is unchanged. After
 * a Wasm fault (out-of-bounds, division by zero) fuelUsed is therefore as of the last such point: still
 * deterministic.
 */
import binaryen from "binaryen";
import { MeterError } from "./errors.ts";
import { FUEL_GLOBAL } from "./fuel.ts";
import { FunctionMeter, type Twin } from "./meter-frame.ts";
import { region } from "./meter-walk.ts";

/** Meter every function the module defines (imports have no body). */
export function meterFunctions(m: binaryen.Module): void {
  const { defined, twins } = nameTwins(m);
  for (const fi of defined) {
    const twin = twins.get(fi.name)!;
    meterInto(m, fi, twin, twins);
    wrapTwin(m, fi, twin);
  }
}

/** Every defined function and its twin's name and result type, before any body is walked (calls look them up). */
function nameTwins(m: binaryen.Module): { defined: binaryen.FunctionInfo[]; twins: Map<string, Twin> } {
  const defined: binaryen.FunctionInfo[] = [];
  const twins = new Map<string, Twin>();
  for (let i = 0, n = m.getNumFunctions(); i < n; i++) {
    const fi = binaryen.getFunctionInfo(m.getFunctionByIndex(i));
    if (fi.module !== "") continue; // imports have no body
    defined.push(fi);
    twins.set(fi.name, { name: `${fi.name}$m`, results: withCounterType(fi.results) });
  }
  return { defined, twins };
}

/** The twin's result type: the function's value (if any) and the counter. */
function withCounterType(results: number): number {
  if (results === binaryen.none) return binaryen.i64;
  if (results !== binaryen.i32 && results !== binaryen.i64)
    throw new MeterError("the metering pass supports only i32/i64 results");
  return binaryen.createType([results, binaryen.i64]);
}

/** Adds the twin: fi's body walked and charged, entered through the frame push and returning the counter. */
function meterInto(m: binaryen.Module, fi: binaryen.FunctionInfo, twin: Twin, twins: ReadonlyMap<string, Twin>): void {
  const params = binaryen.expandType(fi.params);
  const fm = new FunctionMeter(m, twins, params.length, fi.vars);
  const [cost, body] = region(fm, fi.body);
  const type = binaryen.getExpressionType(body);
  const metered = fm.withCounter(
    m.block(null, [...fm.enter(cost + 1), body], type === binaryen.unreachable ? undefined : type),
  );
  fm.dropLeafPops();
  m.addFunction(twin.name, binaryen.createType([...params, binaryen.i64]), twin.results, fm.varTypes, metered);
}

/** The original becomes the wrapper: counter from the global in, back to the global out (not metered itself). */
function wrapTwin(m: binaryen.Module, fi: binaryen.FunctionInfo, twin: Twin): void {
  const params = binaryen.expandType(fi.params);
  const nParams = params.length;
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
