/**
 * One function being metered (meter-functions.ts makes one per defined function): where its fuel counter lives, the
 * temps it borrows, its call-depth frame, and the instructions that charge, test and hand back the counter. The walk
 * (meter-walk.ts) and the call rewriting (meter-calls.ts) build the metered body through it.
 */
import binaryen from "binaryen";
import { MeterError } from "./errors.ts";
import { DEPTH_GLOBAL, FUEL_GLOBAL, STACK_BUDGET, TRAP_CODE, TRAP_GLOBAL, frameWeight } from "./fuel.ts";

/** A metered function's twin: its name and its result type (value, counter). */
export interface Twin {
  name: string;
  results: number;
}

// binaryen.js has per-expression accessor classes (binaryen.Loop.getBody, ...) that its .d.ts does not declare.
export const E = binaryen as unknown as Record<
  string,
  Record<string, (expr: number, value?: number) => number> | undefined
>;
export const L = binaryen as unknown as Record<string, Record<string, (expr: number) => number[]> | undefined>;

export class FunctionMeter {
  /** The counter parameter: after the original ones, so the function's own locals move up by one. */
  readonly fuelLocal: number;
  /** The twin's locals: the function's own, then the temps taken during the walk. */
  readonly varTypes: number[];
  /** The frame's weight on the call-depth global (fuel.ts STACK_BUDGET). */
  readonly weight: number;
  /** Set by the walk when the function calls a metered function (directly or through the table): not a leaf. */
  calls = false;
  private readonly temps = new Map<number, number>();
  /** The frame pops, one per exit: emptied afterwards if the function turns out to be a leaf. */
  private readonly exits: binaryen.ExpressionRef[] = [];

  constructor(
    readonly m: binaryen.Module,
    /** Every defined function's twin, by the original name. */
    readonly twins: ReadonlyMap<string, Twin>,
    readonly nParams: number,
    vars: readonly number[],
  ) {
    this.fuelLocal = nParams;
    this.varTypes = [...vars];
    this.weight = frameWeight(nParams + vars.length);
  }

  /** One scratch local per value type, shared by every use in the function. */
  tempOf(type: number): number {
    let t = this.temps.get(type);
    if (t === undefined) {
      this.temps.set(type, (t = this.nParams + 1 + this.varTypes.length));
      this.varTypes.push(type);
    }
    return t;
  }

  fuel(): binaryen.ExpressionRef {
    return this.m.local.get(this.fuelLocal, binaryen.i64);
  }

  /** Brings the global up to date with the counter, for whoever looks at it next (the host, a trap). */
  sync(): binaryen.ExpressionRef {
    return this.m.global.set(FUEL_GLOBAL, this.fuel());
  }

  /** $f from the global again, after a callee that charged the global. */
  reload(): binaryen.ExpressionRef {
    return this.m.local.set(this.fuelLocal, this.m.global.get(FUEL_GLOBAL, binaryen.i64));
  }

  private depth(): binaryen.ExpressionRef {
    return this.m.global.get(DEPTH_GLOBAL, binaryen.i32);
  }

  private trapIf(cond: binaryen.ExpressionRef, ...before: binaryen.ExpressionRef[]): binaryen.ExpressionRef {
    const m = this.m;
    return m.if(cond, m.block(null, [...before, this.sync(), m.unreachable()]));
  }

  /**
   * Entry: charge the first region and push the frame; one branch tests both, the trap code says which. A function
   * that calls others adds its weight to the depth global; a leaf (it calls only host functions) only tests that
   * its frame fits, since nothing can run above it. Built after the walk, which finds out which one it is.
   */
  enter(cost: number): binaryen.ExpressionRef[] {
    const m = this.m;
    const f = () => this.fuel();
    // (A leaf heavier than the whole budget overflows on entry whatever the depth.)
    const over = (d: binaryen.ExpressionRef) =>
      this.calls
        ? m.i32.gt_u(d, m.i32.const(STACK_BUDGET))
        : this.weight > STACK_BUDGET
          ? m.i32.const(1)
          : m.i32.gt_u(d, m.i32.const(STACK_BUDGET - this.weight));
    return [
      m.local.set(this.fuelLocal, m.i64.sub(f(), m.i64.const(BigInt(cost)))),
      ...(this.calls ? [m.global.set(DEPTH_GLOBAL, m.i32.add(this.depth(), m.i32.const(this.weight)))] : []),
      this.trapIf(
        m.i32.or(m.i64.lt_s(f(), m.i64.const(0n)), over(this.depth())),
        m.if(over(this.depth()), m.global.set(TRAP_GLOBAL, m.i32.const(TRAP_CODE.stackOverflow))),
      ),
    ];
  }

  /** Pops the frame (a block, so a leaf's can be emptied once the walk has shown it is one). */
  private popFrame(): binaryen.ExpressionRef {
    const m = this.m;
    const b = m.block(
      null,
      [m.global.set(DEPTH_GLOBAL, m.i32.sub(this.depth(), m.i32.const(this.weight)))],
      binaryen.none,
    );
    this.exits.push(b);
    return b;
  }

  /** A leaf pushed no frame (enter only tested that it fits), so it pops none. */
  dropLeafPops(): void {
    if (this.calls) return;
    for (const b of this.exits) (E.Block!.removeChildAt as unknown as (e: number, i: number) => number)(b, 0);
  }

  /** The counter a function hands back to its caller, with its frame popped. */
  private exitCounter(): binaryen.ExpressionRef {
    return this.m.block(null, [this.popFrame(), this.fuel()], binaryen.i64);
  }

  /** Charges `cost` units to $f, and traps OutOfFuel if that exhausts it (`check`). */
  charge(cost: number, check: boolean): binaryen.ExpressionRef[] {
    const m = this.m;
    const out = [m.local.set(this.fuelLocal, m.i64.sub(this.fuel(), m.i64.const(BigInt(cost))))];
    if (check) out.push(this.trapIf(m.i64.lt_s(this.fuel(), m.i64.const(0n))));
    return out;
  }

  /** `expr` with `cost` charged before it: a region of its own (a loop body, a large if-arm). */
  prepend(expr: binaryen.ExpressionRef, cost: number, check: boolean): binaryen.ExpressionRef {
    return this.m.block(null, [...this.charge(cost, check), expr], binaryen.getExpressionType(expr));
  }

  /** What a metered function returns for `expr` (a return value or its fallthrough): the value and the counter. */
  withCounter(expr: binaryen.ExpressionRef | 0): binaryen.ExpressionRef {
    if (!expr) return this.exitCounter();
    const type = binaryen.getExpressionType(expr);
    if (type === binaryen.unreachable) return expr;
    if (type === binaryen.none) return this.m.block(null, [expr, this.exitCounter()], binaryen.i64);
    if (type !== binaryen.i32 && type !== binaryen.i64)
      throw new MeterError("the metering pass supports only i32/i64 values here");
    return this.m.tuple.make([expr, this.exitCounter()]);
  }
}
