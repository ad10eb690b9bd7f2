/**
 * One path of the symbolic execution, and how paths join. A path's condition is [n ∈ ns]·Π facts: the reading counts
 * it is feasible for (free in the circuit: linear in inside[]) times the data conditions of the branches it took.
 * At a join the merged value is v₁ + Σ qᵢ·(vᵢ - v₁), where qᵢ is path i's condition *relative to the join* (the
 * facts after the common prefix), so an if/else on one condition costs one product per differing value.
 */
import type { Builder } from "./builder.ts";
import type { Memory } from "./memory.ts";
import { Refuse } from "./ops.ts";
import { lcAdd, lcConst, lcIsConst, sameVal, sym, type LC, type Val } from "./value.ts";

export interface Frame {
  locals: Val[];
  stack: Val[];
}
export interface State {
  ns: number[];
  facts: LC[];
  globals: Val[];
  mem: Memory;
  claimed: Val;
  out: Val;
  frames: Frame[];
  /** State keys this path has set (key hex → present bit and u64 value); others hold their value in `kvIn`. */
  kv: Map<string, StateSlot>;
  /** The state before the run, one slot per constant key the applet touches (shared by every path). */
  kvIn: Map<string, StateSlot>;
}

export interface StateSlot {
  p: Val;
  v: Val;
}

export function cloneState(s: State): State {
  return {
    ...s,
    facts: [...s.facts],
    globals: [...s.globals],
    mem: s.mem.clone(),
    kv: new Map(s.kv),
    frames: s.frames.map((f) => ({ locals: [...f.locals], stack: [...f.stack] })),
  };
}

export function indicator(b: Builder, ns: number[]): LC {
  if (ns.length === b.K) return lcConst(1n);
  let lc = lcConst(0n);
  for (const n of ns) lc = lcAdd(lc, b.countIs(n));
  return lc;
}

function product(b: Builder, xs: LC[]): LC {
  let p = lcConst(1n);
  for (const x of xs) p = b.mul(p, x);
  return p;
}

/** The path condition as one boolean (absolute: 1 exactly when this path is the one taken). */
export function pathCondition(b: Builder, s: State): LC {
  return b.mul(indicator(b, s.ns), product(b, s.facts));
}

export function mergeStates(b: Builder, states: (State | null)[]): State | null {
  let live = states.filter((s): s is State => s !== null);
  // A path that has not claimed, joining paths that have, is taken to be one that never claims: it has no witness,
  // so its condition is constrained to 0. (Sound; the host refuses any later claim, which would make it incomplete.)
  if (
    live.some((s) => s.claimed.kind === "c" && s.claimed.c === 1n) &&
    live.some((s) => s.claimed.kind === "c" && s.claimed.c === 0n)
  ) {
    for (const s of live) if (s.claimed.kind === "c" && s.claimed.c === 0n) b.assertZero(pathCondition(b, s));
    live = live.filter((s) => !(s.claimed.kind === "c" && s.claimed.c === 0n));
    b.prunedUnclaimed = true;
  }
  if (live.length <= 1) return live[0] ?? null;
  const all = [...new Set(live.flatMap((s) => s.ns))].sort((x, y) => x - y);
  let prefix = 0;
  while (live.every((s) => s.facts.length > prefix && s.facts[prefix] === live[0]!.facts[prefix])) prefix++;
  const disjoint = live.reduce((n, s) => n + s.ns.length, 0) === all.length;
  const onlyCounts = disjoint && live.every((s) => s.facts.length === prefix);
  const q = live.map((s) =>
    b.mul(s.ns.length === all.length ? lcConst(1n) : indicator(b, s.ns), product(b, s.facts.slice(prefix))),
  );
  const facts = live[0]!.facts.slice(0, prefix);
  if (!onlyCounts) {
    const sum = q.reduce((a, x) => lcAdd(a, x), lcConst(0n));
    if (!(lcIsConst(sum) && sum.k === 1n)) facts.push(b.name(sum));
  }
  const K = b.K;
  const merge = (vals: Val[]): Val => {
    if (vals.every((v) => sameVal(v, vals[0]!, 64))) return vals[0]!;
    if (onlyCounts && vals.every((v) => v.kind !== "s")) {
      const t: bigint[] = new Array(K).fill(0n);
      live.forEach((s, i) => {
        const v = vals[i]!;
        for (const n of s.ns) t[n - 1] = v.kind === "c" ? v.c : (v as { t: bigint[] }).t[n - 1]!;
      });
      return t.every((x) => x === t[all[0]! - 1]) ? { kind: "c", c: t[all[0]! - 1]! } : { kind: "n", t };
    }
    const first = b.lcOf(vals[0]!);
    let lc = first.lc;
    let lo = first.lo;
    let hi = first.hi;
    for (let i = 1; i < vals.length; i++) {
      const v = b.lcOf(vals[i]!);
      if (v.lo < lo) lo = v.lo;
      if (v.hi > hi) hi = v.hi;
      lc = lcAdd(lc, b.mul(q[i]!, lcAdd(v.lc, first.lc, -1n)));
    }
    return sym(b.name(lc), lo, hi);
  };
  const s0 = live[0]!;
  if (
    live.some(
      (s) => s.mem.pages !== s0.mem.pages || s.mem.overlay !== s0.mem.overlay || s.frames.length !== s0.frames.length,
    )
  ) {
    throw new Refuse(
      "DataDependentMemorySize",
      "paths that join have grown memory differently or read the input differently",
      "grow memory and read the input unconditionally",
    );
  }
  const frames = s0.frames.map((f, fi) => ({
    locals: f.locals.map((_, i) => merge(live.map((s) => s.frames[fi]!.locals[i]!))),
    stack: f.stack.map((_, i) => merge(live.map((s) => s.frames[fi]!.stack[i]!))),
  }));
  const mem = s0.mem.clone();
  mem.regions.clear();
  const keys = new Map<string, { key: string; delta: number[]; off: number; w: number }>();
  for (const s of live) for (const k of s.mem.keys()) keys.set(`${k.key}|${k.off}|${k.w}`, k);
  const sorted = [...keys.values()].sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : x.off - y.off));
  for (let i = 1; i < sorted.length; i++) {
    const p = sorted[i - 1]!;
    const c = sorted[i]!;
    if (p.key === c.key && p.off + p.w > c.off)
      throw new Refuse(
        "MemoryAlias",
        `paths that join wrote overlapping memory at offset ${c.off} with different widths`,
        "write each memory cell with one width on every path",
      );
  }
  for (const k of sorted) {
    const addr: Val =
      k.key === "" ? { kind: "c", c: BigInt(k.off) } : { kind: "n", t: k.delta.map((d) => BigInt(d + k.off)) };
    const vals = live.map((s) => s.mem.load(addr, 0, k.w, s.ns));
    mem.put(k.key, k.delta, k.off, k.w, merge(vals));
  }
  return {
    ns: all,
    facts,
    globals: s0.globals.map((_, i) => merge(live.map((s) => s.globals[i]!))),
    mem,
    claimed: merge(live.map((s) => s.claimed)),
    out: merge(live.map((s) => s.out)),
    frames,
    kv: mergeKv(live, merge),
    kvIn: s0.kvIn,
  };
}

/** The state slots at a join: a key any path set is merged with the other paths' values (their set or input value). */
function mergeKv(live: State[], merge: (vals: Val[]) => Val): Map<string, StateSlot> {
  const keys = [...new Set(live.flatMap((s) => [...s.kv.keys()]))].sort();
  const kv = new Map<string, StateSlot>();
  for (const k of keys) {
    const slots = live.map((s) => s.kv.get(k) ?? s.kvIn.get(k)!);
    kv.set(k, { p: merge(slots.map((x) => x.p)), v: merge(slots.map((x) => x.v)) });
  }
  return kv;
}
