/**
 * Wasm integer instructions on executor values. Known operands are folded (per count entry for tables); symbolic
 * ones become constraints, with exact wrap-around: values stay unreduced integers in a tracked range and are
 * reduced mod 2^width by a bit decomposition only where the canonical value matters.
 */
import { Builder, MAX_BITS } from "./builder.ts";
import { binConcrete, unConcrete } from "./concrete.ts";
import type { NotProvableReason } from "./errors.ts";
import { countZeros, divS, shiftBy } from "./ops-data.ts";
import { bitLength, lcAdd, lcConst, lcScale, mask, sym, type LC, type Val } from "./value.ts";

/** Thrown by an op the compiler cannot express; the executor adds the function and offset. */
export class Refuse extends Error {
  constructor(
    readonly reason: NotProvableReason,
    message: string,
    readonly hint: string,
  ) {
    super(message);
  }
}

export interface OpResult {
  v: Val;
  /** A boolean (0/1) that is 1 exactly when this instruction traps. */
  trap?: LC;
}

const P2 = (n: number) => 1n << BigInt(n);
const min = (...xs: bigint[]) => xs.reduce((a, b) => (b < a ? b : a));
const max = (...xs: bigint[]) => xs.reduce((a, b) => (b > a ? b : a));
const tooBig = (lo: bigint, hi: bigint) => bitLength(hi) > MAX_BITS || bitLength(-lo) > MAX_BITS;

interface S {
  lc: LC;
  lo: bigint;
  hi: bigint;
}

export class Arith {
  constructor(readonly b: Builder) {}

  /** The canonical unsigned value x mod 2^w, and its w bits if they were needed. */
  toU(v: Val, w: number): S {
    const s = this.b.lcOf(v);
    if (s.lo >= 0n && s.hi < P2(w)) return s;
    const base = (s.lo >= 0n ? s.lo / P2(w) : -((-s.lo + P2(w) - 1n) / P2(w))) * P2(w);
    const y = lcAdd(s.lc, lcConst(-base));
    const n = Math.max(w, bitLength(s.hi - base));
    const bits = this.b.bits(y, n);
    let u = lcConst(0n);
    for (let i = 0; i < w; i++) u = lcAdd(u, lcScale(bits[i]!, P2(i)));
    return { lc: u, lo: 0n, hi: mask(w) };
  }
  ubits(v: Val, w: number): LC[] {
    const u = this.toU(v, w);
    return this.b.bits(u.lc, w);
  }
  toS(v: Val, w: number): S {
    const s = this.b.lcOf(v);
    if (s.lo >= -P2(w - 1) && s.hi < P2(w - 1)) return s;
    const bits = this.ubits(v, w);
    const u = this.toU(v, w);
    return { lc: lcAdd(u.lc, lcScale(bits[w - 1]!, -P2(w))), lo: -P2(w - 1), hi: P2(w - 1) - 1n };
  }

  /** 1 if a < b as integers (a, b in their ranges). */
  less(a: S, b: S): LC {
    const known = this.b.knownRange(lcAdd(a.lc, b.lc, -1n));
    const lo = known && known[0] > a.lo - b.hi ? known[0] : a.lo - b.hi;
    const hi = known && known[1] < a.hi - b.lo ? known[1] : a.hi - b.lo;
    if (hi < 0n) return lcConst(1n);
    if (lo >= 0n) return lcConst(0n);
    const m = Math.max(bitLength(-lo), bitLength(hi));
    const bits = this.b.bits(lcAdd(lcAdd(a.lc, b.lc, -1n), lcConst(P2(m))), m + 1);
    return lcAdd(lcConst(1n), bits[m]!, -1n);
  }

  private boolV(lc: LC): Val {
    return sym(lc, 0n, 1n);
  }

  bin(op: string, a: Val, c: Val, w: number): OpResult {
    if (a.kind !== "s" && c.kind !== "s") return this.binKnown(op, a, c, w);
    const B = this.b;
    switch (op) {
      case "add":
      case "sub": {
        let x = B.lcOf(a);
        let y = B.lcOf(c);
        if (tooBig(x.lo - y.hi - y.lo, x.hi + y.hi - y.lo)) [x, y] = [this.toU(a, w), this.toU(c, w)];
        const sign = op === "add" ? 1n : -1n;
        const lc = lcAdd(x.lc, y.lc, sign);
        const known = B.knownRange(lc);
        const lo = max(op === "add" ? x.lo + y.lo : x.lo - y.hi, known?.[0] ?? -(1n << 400n));
        const hi = min(op === "add" ? x.hi + y.hi : x.hi - y.lo, known?.[1] ?? 1n << 400n);
        return { v: sym(lc, lo, hi) };
      }
      case "mul": {
        let x = B.lcOf(a);
        let y = B.lcOf(c);
        const corners = (p: S, q: S) => [p.lo * q.lo, p.lo * q.hi, p.hi * q.lo, p.hi * q.hi];
        if (tooBig(min(...corners(x, y)), max(...corners(x, y)))) [x, y] = [this.toU(a, w), this.toU(c, w)];
        const cs = corners(x, y);
        return { v: sym(B.mul(x.lc, y.lc), min(...cs), max(...cs)) };
      }
      case "and":
      case "or":
      case "xor":
        return { v: this.bitwise(op, a, c, w) };
      case "shl":
      case "shr_u":
      case "shr_s":
      case "rotl":
      case "rotr":
        return { v: this.shift(op, a, c, w) };
      case "eq":
      case "ne": {
        const x = this.toU(a, w);
        const y = this.toU(c, w);
        const z = x.hi < y.lo || y.hi < x.lo ? lcConst(0n) : B.isZero(lcAdd(x.lc, y.lc, -1n));
        return { v: this.boolV(op === "eq" ? z : lcAdd(lcConst(1n), z, -1n)) };
      }
      case "lt_u":
        return { v: this.boolV(this.less(this.toU(a, w), this.toU(c, w))) };
      case "gt_u":
        return { v: this.boolV(this.less(this.toU(c, w), this.toU(a, w))) };
      case "le_u":
        return { v: this.boolV(lcAdd(lcConst(1n), this.less(this.toU(c, w), this.toU(a, w)), -1n)) };
      case "ge_u":
        return { v: this.boolV(lcAdd(lcConst(1n), this.less(this.toU(a, w), this.toU(c, w)), -1n)) };
      case "lt_s":
        return { v: this.boolV(this.less(this.toS(a, w), this.toS(c, w))) };
      case "gt_s":
        return { v: this.boolV(this.less(this.toS(c, w), this.toS(a, w))) };
      case "le_s":
        return { v: this.boolV(lcAdd(lcConst(1n), this.less(this.toS(c, w), this.toS(a, w)), -1n)) };
      case "ge_s":
        return { v: this.boolV(lcAdd(lcConst(1n), this.less(this.toS(a, w), this.toS(c, w)), -1n)) };
      case "div_u":
      case "rem_u":
        return this.divU(op, a, c, w);
      case "div_s":
      case "rem_s":
        return divS(this, op, a, c, w);
    }
    throw new Refuse(
      "UnsupportedInstruction",
      `${op} of a value that depends on the readings is not supported`,
      "compute it on known values only",
    );
  }

  private binKnown(op: string, a: Val, c: Val, w: number): OpResult {
    if (a.kind === "c" && c.kind === "c") {
      const r = binConcrete(op, a.c, c.c, w);
      return r === "trap" ? { v: { kind: "c", c: 0n }, trap: lcConst(1n) } : { v: { kind: "c", c: r } };
    }
    const K = this.b.K;
    const at = (v: Val, i: number) => (v.kind === "c" ? v.c : v.kind === "n" ? v.t[i]! : 0n);
    const t: bigint[] = [];
    let trap = lcConst(0n);
    for (let i = 0; i < K; i++) {
      const r = binConcrete(op, at(a, i), at(c, i), w);
      if (r === "trap") trap = lcAdd(trap, this.b.countIs(i + 1));
      t.push(r === "trap" ? 0n : r);
    }
    return {
      v: t.every((x) => x === t[0]) ? { kind: "c", c: t[0]! } : { kind: "n", t },
      trap: trap.terms.size ? trap : undefined,
    };
  }

  un(op: string, a: Val, w: number): Val {
    if (a.kind === "c") return { kind: "c", c: unConcrete(op, a.c, w) };
    if (a.kind === "n") {
      const t = a.t.map((x) => unConcrete(op, x, w));
      return t.every((x) => x === t[0]) ? { kind: "c", c: t[0]! } : { kind: "n", t };
    }
    switch (op) {
      case "eqz": {
        const x = this.toU(a, w);
        return this.boolV(x.lo > 0n ? lcConst(0n) : this.b.isZero(x.lc));
      }
      case "wrap":
        return a; // x mod 2^64 mod 2^32 = x mod 2^32: the same unreduced integer serves
      case "extend_u": {
        const u = this.toU(a, 32);
        return sym(u.lc, u.lo, u.hi);
      }
      case "extend_s": {
        const s = this.toS(a, 32);
        return sym(s.lc, s.lo, s.hi);
      }
      case "extend8_s":
      case "extend16_s":
      case "extend32_s": {
        const n = op === "extend8_s" ? 8 : op === "extend16_s" ? 16 : 32;
        const bits = this.ubits(a, w);
        let s = lcScale(bits[n - 1]!, -P2(n - 1));
        for (let i = 0; i < n - 1; i++) s = lcAdd(s, lcScale(bits[i]!, P2(i)));
        return sym(s, -P2(n - 1), P2(n - 1) - 1n);
      }
      case "popcnt": {
        let s = lcConst(0n);
        for (const bit of this.ubits(a, w)) s = lcAdd(s, bit);
        return sym(s, 0n, BigInt(w));
      }
      case "clz":
      case "ctz":
        return countZeros(this, op, a, w);
    }
    throw new Refuse(
      "UnsupportedInstruction",
      `${op} of a value that depends on the readings is not supported`,
      "compute it on known values only",
    );
  }

  private bitwise(op: string, a: Val, c: Val, w: number): Val {
    const x = this.b.lcOf(a);
    const y = this.b.lcOf(c);
    // Booleans (comparison results) combine with one product at most.
    if (x.lo >= 0n && x.hi <= 1n && y.lo >= 0n && y.hi <= 1n) {
      const p = this.b.mul(x.lc, y.lc);
      const lc = op === "and" ? p : op === "or" ? lcAdd(lcAdd(x.lc, y.lc), p, -1n) : lcAdd(lcAdd(x.lc, y.lc), p, -2n);
      return sym(lc, 0n, 1n);
    }
    const xb = a.kind === "s" ? this.ubits(a, w) : undefined;
    const yb = c.kind === "s" ? this.ubits(c, w) : undefined;
    let out = lcConst(0n);
    for (let i = 0; i < w; i++) {
      const bitOf = (v: Val, bits: LC[] | undefined, j: number): LC | bigint =>
        bits ? bits[j]! : ((v.kind === "c" ? v.c : 0n) >> BigInt(j)) & 1n;
      if (a.kind === "n" || c.kind === "n")
        throw new Refuse(
          "UnsupportedInstruction",
          `${op} of a count-dependent value with reading data`,
          "keep bitwise operations on reading values or on constants",
        );
      const p = bitOf(a, xb, i);
      const q = bitOf(c, yb, i);
      let bit: LC;
      if (typeof p === "bigint" && typeof q !== "bigint") bit = this.bitOp(op, q, p);
      else if (typeof q === "bigint" && typeof p !== "bigint") bit = this.bitOp(op, p, q);
      else {
        const pp = p as LC;
        const qq = q as LC;
        const prod = this.b.mul(pp, qq);
        bit = op === "and" ? prod : op === "or" ? lcAdd(lcAdd(pp, qq), prod, -1n) : lcAdd(lcAdd(pp, qq), prod, -2n);
      }
      out = lcAdd(out, lcScale(bit, P2(i)));
    }
    // x & k ≤ k: a masked index keeps its small range (a checked lookup's candidates come from it).
    const k = op === "and" ? (a.kind === "c" ? a.c : c.kind === "c" ? c.c : undefined) : undefined;
    return sym(out, 0n, k !== undefined ? k & mask(w) : mask(w));
  }
  private bitOp(op: string, p: LC, k: bigint): LC {
    if (op === "and") return k ? p : lcConst(0n);
    if (op === "or") return k ? lcConst(1n) : p;
    return k ? lcAdd(lcConst(1n), p, -1n) : p;
  }

  private shift(op: string, a: Val, c: Val, w: number): Val {
    if (c.kind !== "c") return shiftBy(this, op, a, c, w);
    const k = Number(c.c % BigInt(w));
    if (op === "shl") {
      const x = this.b.lcOf(a);
      if (tooBig(x.lo * P2(k), x.hi * P2(k))) {
        const u = this.toU(a, w);
        return sym(lcScale(u.lc, P2(k)), 0n, u.hi * P2(k));
      }
      return sym(lcScale(x.lc, P2(k)), x.lo * P2(k), x.hi * P2(k));
    }
    const bits = this.ubits(a, w);
    const src = (i: number) =>
      op === "shr_u"
        ? i < w
          ? bits[i]!
          : lcConst(0n)
        : op === "shr_s"
          ? bits[Math.min(i, w - 1)]!
          : op === "rotr"
            ? bits[i % w]!
            : bits[(i - k + 2 * w) % w]!;
    let out = lcConst(0n);
    for (let i = 0; i < w; i++) out = lcAdd(out, lcScale(op === "rotl" ? src(i) : src(i + k), P2(i)));
    return sym(out, 0n, mask(w));
  }

  divU(op: string, a: Val, c: Val, w: number): OpResult {
    const B = this.b;
    const x = this.toU(a, w);
    const y = this.toU(c, w);
    if (y.hi === 0n) return { v: { kind: "c", c: 0n }, trap: lcConst(1n) };
    // A zero divisor traps; the gadget divides by y + [y = 0] so that its witness exists on paths not taken.
    const zero = y.lo > 0n ? lcConst(0n) : B.isZero(y.lc);
    const d = lcAdd(y.lc, zero);
    const q = this.hint(`(${B.text(x.lc)}) \\ (${B.text(d)})`);
    const r = this.hint(`(${B.text(x.lc)}) % (${B.text(d)})`);
    B.assertZero(lcAdd(lcAdd(B.mul(d, q), r), x.lc, -1n));
    if (y.lo === y.hi) {
      // A constant divisor c (a time-of-day, a unit conversion): r ∈ [0, c) and q ≤ x.hi / c pin the integer
      // division (x = c·q + r stays far below the field), with bits for c and x.hi / c instead of three w-bit checks.
      B.range(q, 0n, x.hi / y.lo);
      B.range(r, 0n, y.lo - 1n);
    } else {
      B.range(q, 0n, x.hi);
      B.range(r, 0n, mask(w));
      B.range(lcAdd(lcAdd(d, r, -1n), lcConst(-1n)), 0n, mask(w)); // r < d
    }
    return {
      v: op === "div_u" ? sym(q, 0n, y.lo === y.hi ? x.hi / y.lo : x.hi) : sym(r, 0n, y.hi - 1n),
      trap: zero.terms.size || zero.k ? zero : undefined,
    };
  }

  private hint(expr: string): LC {
    return this.b.hint(expr);
  }
}
