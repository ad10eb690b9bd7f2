/**
 * The integer instructions whose second operand (a divisor's sign, a shift amount) or whole result depends on the
 * readings bit by bit: signed division and remainder, clz/ctz, and shifts and rotates by a data-dependent amount.
 * Each is exact Wasm semantics built from the unsigned gadgets of ops.ts.
 */
import { lcAdd, lcConst, lcScale, lcKey, mask, sym, type LC, type Val } from "./value.ts";
import type { Arith, OpResult } from "./ops.ts";

const P2 = (n: number) => 1n << BigInt(n);
const ZERO = { lc: lcConst(0n), lo: 0n, hi: 0n };

/**
 * div_s / rem_s: |x| and |y| through the unsigned gadget, signs put back (Wasm truncates toward zero; the remainder
 * takes the dividend's sign). Traps: y = 0 (both) and INT_MIN / -1 (div_s only; INT_MIN rem_s -1 is 0).
 */
export function divS(ar: Arith, op: "div_s" | "rem_s", a: Val, c: Val, w: number): OpResult {
  const B = ar.b;
  const x = ar.toS(a, w);
  const y = ar.toS(c, w);
  const neg = (s: typeof x) => (s.lo >= 0n ? lcConst(0n) : s.hi < 0n ? lcConst(1n) : ar.less(s, ZERO));
  const abs = (s: typeof x, n: LC): Val => {
    const hi = s.lo >= 0n ? s.hi : -s.lo > s.hi ? -s.lo : s.hi;
    return sym(lcAdd(s.lc, B.mul(n, s.lc), -2n), s.lo >= 0n ? s.lo : 0n, hi);
  };
  const sx = neg(x);
  const sy = neg(y);
  const u = ar.divU(op === "div_s" ? "div_u" : "rem_u", abs(x, sx), abs(y, sy), w);
  if (u.v.kind !== "s") return u; // the divisor is 0 on every path: a trap
  const m = B.lcOf(u.v);
  // The result's sign: the quotient's is sx xor sy, the remainder's is sx.
  const s = op === "div_s" ? lcAdd(lcAdd(sx, sy), B.mul(sx, sy), -2n) : sx;
  const v = sym(lcAdd(m.lc, B.mul(s, m.lc), -2n), -m.hi, m.hi);
  let trap = u.trap;
  if (op === "div_s" && x.lo <= -P2(w - 1) && y.lo <= -1n && y.hi >= -1n) {
    const ovf = B.mul(B.isZero(lcAdd(x.lc, lcConst(P2(w - 1)))), B.isZero(lcAdd(y.lc, lcConst(1n))));
    trap = trap ? lcAdd(trap, ovf) : ovf; // exclusive: y = 0 and y = -1 cannot both hold
  }
  return { v, trap };
}

/** clz / ctz: the count of zero bits before the first one from the top (bottom): Σ of the running "all zero so far". */
export function countZeros(ar: Arith, op: "clz" | "ctz", a: Val, w: number): Val {
  const B = ar.b;
  const bits = ar.ubits(a, w);
  const order = op === "clz" ? bits.slice().reverse() : bits;
  let run = lcConst(1n);
  let sum = lcConst(0n);
  for (const bit of order) {
    run = B.mul(run, lcAdd(lcConst(1n), bit, -1n));
    sum = lcAdd(sum, run);
  }
  return sym(B.name(sum), 0n, BigInt(w)); // named: a w-term sum nested in later expressions overflows circom's parser
}

/**
 * shl, shr_u, shr_s, rotl, rotr by an amount that depends on the readings: the amount mod w is the low log2(w) bits
 * of its canonical value; a barrel shifter applies 2^j to the value's bits where bit j is set (one product per bit
 * that moves, per stage).
 */
export function shiftBy(ar: Arith, op: string, a: Val, c: Val, w: number): Val {
  const B = ar.b;
  const stages = Math.log2(w);
  const amount = ar.ubits(c, w).slice(0, stages);
  let bits = ar.ubits(a, w);
  for (let j = 0; j < stages; j++) {
    const d = 1 << j;
    const cur = bits;
    const src = (i: number): LC => {
      switch (op) {
        case "shl":
          return i - d >= 0 ? cur[i - d]! : lcConst(0n);
        case "shr_u":
          return i + d < w ? cur[i + d]! : lcConst(0n);
        case "shr_s":
          return cur[Math.min(i + d, w - 1)]!;
        case "rotl":
          return cur[(i - d + w) % w]!;
        default: // rotr
          return cur[(i + d) % w]!;
      }
    };
    bits = cur.map((b, i) => {
      const from = src(i);
      return lcKey(from) === lcKey(b) ? b : B.select(amount[j]!, b, from);
    });
  }
  let out = lcConst(0n);
  for (let i = 0; i < w; i++) out = lcAdd(out, lcScale(bits[i]!, P2(i)));
  return sym(out, 0n, mask(w));
}
