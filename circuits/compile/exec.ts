/**
 * The symbolic executor: runs the applet's Wasm once for one device and K reading slots. Calls are inlined, loops
 * are unrolled (each back edge re-runs the body with the merged looping paths), branches on known values are taken,
 * branches on the readings' count split the feasible counts, and branches on data run both arms and merge. Traps on
 * a path become "this path's condition is 0" (a path that traps produces no claim, so it has no witness).
 */
import { lookupLoad, lookupStore } from "./lookup.ts";
import type { Builder } from "./builder.ts";
import { hostFuel, regionFuel } from "./fuel.ts";
import { decodeBody, LOADS, NUMERIC, STORES, type Instr } from "./decode.ts";
import { NotProvableError } from "./errors.ts";
import type { Host } from "./host.ts";
import { Arith, Refuse } from "./ops.ts";
import { cloneState, mergeStates, pathCondition, type State } from "./state.ts";
import { lcAdd, lcConst, lcIsConst, sym, type LC, type Val } from "./value.ts";
import type { WasmModule } from "./wasm.ts";

interface Label {
  arity: number;
  height: number;
  pending: State[];
}

const MAX_STEPS = 2_000_000;
const MAX_ITERATIONS = 4096;

export class Executor {
  readonly arith: Arith;
  private bodies = new Map<number, Instr[]>();
  private labels: Label[] = [];
  private steps = 0;
  /** An upper bound of the fuel of any run the explored paths cover (fuel.ts). */
  fuel = 0;
  private func = "";
  private depth = 0;

  constructor(
    readonly m: WasmModule,
    readonly b: Builder,
    readonly host: Host,
  ) {
    this.arith = new Arith(b);
  }

  refuse(e: Refuse, at: number): never {
    throw new NotProvableError(e.message, { reason: e.reason, func: this.func, offset: at, hint: e.hint });
  }

  /** A path that traps here: its condition must be 0 (or the whole run traps: nothing to prove). */
  trap(s: State, at: number, why: string): null {
    const pc = pathCondition(this.b, s);
    if (lcIsConst(pc)) {
      if (pc.k === 0n) return null;
      throw new NotProvableError(`the applet always traps (${why})`, {
        reason: "NeverClaims",
        func: this.func,
        offset: at,
        hint: "an applet that traps on every input never claims",
      });
    }
    this.b.assertZero(pc);
    return null;
  }
  trapIf(s: State, t: LC | undefined, at: number, why: string): State | null {
    if (!t || (lcIsConst(t) && t.k === 0n)) return s;
    if (lcIsConst(t)) return this.trap(s, at, why);
    this.b.assertZero(this.b.mul(pathCondition(this.b, s), t));
    return s;
  }

  /** The boolean "v != 0" of an i32 condition. */
  truth(v: Val): LC {
    const { lc, lo, hi } = this.b.lcOf(v);
    if (lo >= 0n && hi <= 1n) return lc;
    return lcAdd(lcConst(1n), this.b.lcOf(this.arith.un("eqz", v, 32)).lc, -1n);
  }

  /** Splits a path on an i32 condition: [taken, not taken], either null when infeasible. */
  fork(s: State, c: Val): [State | null, State | null] {
    if (c.kind === "c") return c.c !== 0n ? [s, null] : [null, s];
    if (c.kind === "n") {
      const yes = s.ns.filter((n) => c.t[n - 1] !== 0n);
      const no = s.ns.filter((n) => c.t[n - 1] === 0n);
      if (!no.length) return [s, null];
      if (!yes.length) return [null, s];
      const t = cloneState(s);
      t.ns = yes;
      s.ns = no;
      return [t, s];
    }
    const bit = this.truth(c);
    const t = cloneState(s);
    t.facts.push(bit);
    s.facts.push(lcAdd(lcConst(1n), bit, -1n));
    return [t, s];
  }

  call(fi: number, s: State, at: number): State | null {
    const nImports = this.m.imports.length;
    const frame = s.frames[s.frames.length - 1]!;
    const type = fi < nImports ? this.m.imports[fi]!.type : this.m.funcs[fi - nImports]!.type;
    const args = frame.stack.splice(frame.stack.length - type.params.length);
    if (fi < nImports) {
      this.fuel += hostFuel(this.m.imports[fi]!.name, args);
      return this.host.call(this, this.m.imports[fi]!.name, args, s, at);
    }
    if (++this.depth > 64)
      throw new NotProvableError("calls nest deeper than 64 (recursion?)", {
        reason: "UnboundedLoop",
        func: this.func,
        offset: at,
        hint: "recursion is not provable: use loops with a bound",
      });
    const f = this.m.funcs[fi - nImports]!;
    let body = this.bodies.get(fi);
    if (!body) this.bodies.set(fi, (body = decodeBody(this.m, fi - nImports)));
    this.fuel += regionFuel(body);
    const saved = { labels: this.labels, func: this.func };
    const label: Label = { arity: type.results.length, height: 0, pending: [] };
    this.labels = [label];
    this.func = f.name;
    s.frames.push({ locals: [...args, ...f.locals.map((): Val => ({ kind: "c", c: 0n }))], stack: [] });
    const end = this.seq(body, s);
    let r: State | null;
    try {
      r = mergeStates(this.b, [end, ...label.pending]);
    } catch (e) {
      if (e instanceof Refuse) this.refuse(e, f.start);
      throw e;
    }
    this.labels = saved.labels;
    this.func = saved.func;
    this.depth--;
    if (!r) return null;
    const callee = r.frames.pop()!;
    r.frames[r.frames.length - 1]!.stack.push(...callee.stack.slice(callee.stack.length - type.results.length));
    return r;
  }

  private branch(s: State, depth: number): null {
    const l = this.labels[this.labels.length - 1 - depth]!;
    const f = s.frames[s.frames.length - 1]!;
    f.stack = [...f.stack.slice(0, l.height), ...f.stack.slice(f.stack.length - l.arity)];
    l.pending.push(s);
    return null;
  }

  private block(ins: Instr, s: State, loop: boolean): State | null {
    const f = s.frames[s.frames.length - 1]!;
    const label: Label = { arity: loop ? 0 : ins.arity!, height: f.stack.length, pending: [] };
    this.labels.push(label);
    try {
      if (!loop) return mergeStates(this.b, [this.seq(ins.body!, s), ...label.pending]);
      const outs: (State | null)[] = [];
      let entry: State | null = s;
      for (let i = 0; entry; i++) {
        if (i > MAX_ITERATIONS)
          throw new NotProvableError(`a loop runs more than ${MAX_ITERATIONS} times or has no bound`, {
            reason: "UnboundedLoop",
            func: this.func,
            offset: ins.at,
            hint: "bound loops by the reading count, a constant or the config param",
          });
        label.pending = [];
        this.fuel += regionFuel(ins.body!);
        outs.push(this.seq(ins.body!, entry));
        entry = mergeStates(this.b, label.pending);
      }
      return mergeStates(this.b, outs);
    } catch (e) {
      if (e instanceof Refuse) this.refuse(e, ins.at);
      throw e;
    } finally {
      this.labels.pop();
    }
  }

  seq(body: Instr[], start: State | null): State | null {
    let s = start;
    for (const ins of body) {
      if (!s) return null;
      if (++this.steps > MAX_STEPS)
        throw new NotProvableError(`the applet executes more than ${MAX_STEPS} instructions for K slots`, {
          reason: "TooLarge",
          func: this.func,
          offset: ins.at,
          hint: "use a smaller K or a simpler applet",
        });
      try {
        s = this.step(ins, s);
      } catch (e) {
        if (e instanceof Refuse) this.refuse(e, ins.at);
        throw e;
      }
    }
    return s;
  }

  private step(ins: Instr, s: State): State | null {
    const f = s.frames[s.frames.length - 1]!;
    const st = f.stack;
    switch (ins.op) {
      case "block":
        return this.block(ins, s, false);
      case "loop":
        return this.block(ins, s, true);
      case "if": {
        const [t, e] = this.fork(s, st.pop()!);
        const label = (): Label => ({
          arity: ins.arity!,
          height: (t ?? e)!.frames[(t ?? e)!.frames.length - 1]!.stack.length,
          pending: [],
        });
        const arm = (x: State | null, body: Instr[]) => {
          if (!x) return [] as (State | null)[];
          const l = label();
          this.labels.push(l);
          try {
            return [this.seq(body, x), ...l.pending];
          } finally {
            this.labels.pop();
          }
        };
        return mergeStates(this.b, [...arm(t, ins.body!), ...arm(e, ins.else!)]);
      }
      case "br":
        return this.branch(s, ins.a!);
      case "br_if": {
        const [t, e] = this.fork(s, st.pop()!);
        if (t) this.branch(t, ins.a!);
        return e;
      }
      case "br_table": {
        const idx = st.pop()!;
        const targets = ins.targets!;
        let rest: State | null = s;
        for (let j = 0; j < targets.length && rest; j++) {
          const [t, e] = this.fork(rest, this.arith.bin("eq", idx, { kind: "c", c: BigInt(j) }, 32).v);
          if (t) this.branch(t, targets[j]!);
          rest = e;
        }
        if (rest) this.branch(rest, ins.a!);
        return null;
      }
      case "return":
        return this.branch(s, this.labels.length - 1);
      case "unreachable":
        return this.trap(s, ins.at, "unreachable");
      case "call":
        return this.call(ins.a!, s, ins.at);
      case "call_indirect": {
        const i = st.pop()!;
        if (i.kind !== "c")
          throw new Refuse(
            "DataDependentCall",
            "an indirect call whose target depends on the readings",
            "call functions directly, or through a constant table index",
          );
        const fi = this.m.table[Number(i.c)];
        if (fi === undefined) return this.trap(s, ins.at, "call_indirect to an empty table slot");
        return this.call(fi, s, ins.at);
      }
      case "drop":
        st.pop();
        return s;
      case "select": {
        const c = st.pop()!;
        const no = st.pop()!;
        const yes = st.pop()!;
        st.push(this.select(c, yes, no, s));
        return s;
      }
      case "local.get":
        st.push(f.locals[ins.a!]!);
        return s;
      case "local.set":
        f.locals[ins.a!] = st.pop()!;
        return s;
      case "local.tee":
        f.locals[ins.a!] = st[st.length - 1]!;
        return s;
      case "global.get":
        st.push(s.globals[ins.a!]!);
        return s;
      case "global.set":
        s.globals[ins.a!] = st.pop()!;
        return s;
      case "const":
        st.push({ kind: "c", c: ins.c! });
        return s;
      case "num": {
        const [name, w, kind] = NUMERIC[ins.a!]!;
        if (kind === "un") {
          st.push(this.arith.un(name, st.pop()!, w));
          return s;
        }
        const y = st.pop()!;
        const r = this.arith.bin(name, st.pop()!, y, w);
        st.push(r.v);
        return this.trapIf(s, r.trap, ins.at, `${name} traps`);
      }
      case "load": {
        const [bytes, signed, rw] = LOADS[ins.a!]!;
        const addr = st.pop()!;
        const s2 = addr.kind === "s" ? s : this.bounds(s, addr, ins.b!, bytes, ins.at);
        if (!s2) return null;
        let v =
          addr.kind === "s"
            ? lookupLoad(this.b, this.arith, s.mem, addr, ins.b!, bytes, s.ns)
            : s.mem.load(addr, ins.b!, bytes, s.ns);
        if (bytes * 8 < rw) v = this.extend(v, bytes * 8, signed, rw);
        st.push(v);
        return s2;
      }
      case "store": {
        const [bytes] = STORES[ins.a!]!;
        const v = st.pop()!;
        const addr = st.pop()!;
        if (addr.kind === "s") return (lookupStore(this.b, this.arith, s.mem, addr, ins.b!, bytes, v, s.ns), s);
        const s2 = this.bounds(s, addr, ins.b!, bytes, ins.at);
        if (!s2) return null;
        s.mem.store(addr, ins.b!, bytes, v, s.ns);
        return s2;
      }
      case "memory.size":
        st.push({ kind: "c", c: BigInt(s.mem.pages) });
        return s;
      case "memory.grow": {
        const d = st.pop()!;
        if (d.kind !== "c")
          throw new Refuse(
            "DataDependentMemorySize",
            "memory.grow by a size that depends on the readings",
            "grow memory by constant amounts (or allocate a fixed-size buffer)",
          );
        if (s.mem.pages + Number(d.c) > this.m.memoryMaxPages) st.push({ kind: "c", c: 0xffffffffn });
        else (st.push({ kind: "c", c: BigInt(s.mem.pages) }), (s.mem.pages += Number(d.c)));
        return s;
      }
      case "memory.fill":
        return this.host.fill(this, st.pop()!, st.pop()!, st.pop()!, s, ins.at);
      case "memory.copy":
        return this.host.copy(this, st.pop()!, st.pop()!, st.pop()!, s, ins.at);
    }
    throw new Refuse(
      "UnsupportedInstruction",
      `instruction ${ins.op} is outside the provable subset`,
      "use integer core Wasm only",
    );
  }

  /** An access past the end of memory traps (for the counts where it would). */
  bounds(s: State, addr: Val, offset: number, bytes: number, at: number): State | null {
    const { delta, off } = s.mem.locate(addr, offset);
    const size = s.mem.pages * 65536;
    const bad = s.ns.filter((n) => delta[n - 1]! + off + bytes > size || delta[n - 1]! + off < 0);
    if (!bad.length) return s;
    if (bad.length === s.ns.length) return this.trap(s, at, "out-of-bounds memory access");
    let t = lcConst(0n);
    for (const n of bad) t = lcAdd(t, this.b.countIs(n));
    return this.trapIf(s, t, at, "out-of-bounds memory access");
  }

  extend(v: Val, bits: number, signed: boolean, rw: number): Val {
    if (v.kind !== "s") {
      const f = (x: bigint) => (signed ? BigInt.asUintN(rw, BigInt.asIntN(bits, x)) : BigInt.asUintN(bits, x));
      return v.kind === "c" ? { kind: "c", c: f(v.c) } : { kind: "n", t: v.t.map(f) };
    }
    const r = signed ? this.arith.toS(v, bits) : this.arith.toU(v, bits);
    return sym(r.lc, r.lo, r.hi);
  }

  select(c: Val, yes: Val, no: Val, s: State): Val {
    if (c.kind === "c") return c.c !== 0n ? yes : no;
    if (c.kind === "n" && yes.kind !== "s" && no.kind !== "s") {
      const at = (v: Val, i: number) => (v.kind === "c" ? v.c : (v as { t: bigint[] }).t[i]!);
      return { kind: "n", t: c.t.map((x, i) => (x !== 0n ? at(yes, i) : at(no, i))) };
    }
    void s;
    const bit = c.kind === "n" ? this.b.tableLC(c.t.map((x) => (x !== 0n ? 1n : 0n))) : this.truth(c);
    const y = this.b.lcOf(yes);
    const n = this.b.lcOf(no);
    return sym(
      lcAdd(n.lc, this.b.mul(bit, lcAdd(y.lc, n.lc, -1n))),
      y.lo < n.lo ? y.lo : n.lo,
      y.hi > n.hi ? y.hi : n.hi,
    );
  }

  /** Runs an exported function (no params) from the given state. */
  runExport(name: string, s: State): State | null {
    const fi = this.m.exports.get(name);
    if (fi === undefined) return s;
    return this.call(fi, s, 0);
  }
}
