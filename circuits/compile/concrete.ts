/** Exact Wasm integer semantics on known values (constants, and each entry of a per-count table). */

const M = (w: number) => (1n << BigInt(w)) - 1n;
const signed = (x: bigint, w: number) => BigInt.asIntN(w, x);

/** The result, or "trap" (division by zero, signed overflow of div_s). Operands are canonical unsigned. */
export function binConcrete(op: string, a: bigint, b: bigint, w: number): bigint | "trap" {
  const m = M(w);
  const W = BigInt(w);
  switch (op) {
    case "add":
      return (a + b) & m;
    case "sub":
      return (a - b) & m;
    case "mul":
      return (a * b) & m;
    case "and":
      return a & b;
    case "or":
      return a | b;
    case "xor":
      return a ^ b;
    case "shl":
      return (a << (b % W)) & m;
    case "shr_u":
      return a >> (b % W);
    case "shr_s":
      return (signed(a, w) >> (b % W)) & m;
    case "rotl": {
      const k = b % W;
      return ((a << k) | (a >> ((W - k) % W))) & m;
    }
    case "rotr": {
      const k = b % W;
      return ((a >> k) | (a << ((W - k) % W))) & m;
    }
    case "div_u":
      return b === 0n ? "trap" : a / b;
    case "rem_u":
      return b === 0n ? "trap" : a % b;
    case "div_s": {
      if (b === 0n) return "trap";
      const q = signed(a, w) / signed(b, w);
      if (q === 1n << (W - 1n)) return "trap";
      return q & m;
    }
    case "rem_s":
      return b === 0n ? "trap" : (signed(a, w) % signed(b, w)) & m;
    case "eq":
      return a === b ? 1n : 0n;
    case "ne":
      return a !== b ? 1n : 0n;
    case "lt_u":
      return a < b ? 1n : 0n;
    case "gt_u":
      return a > b ? 1n : 0n;
    case "le_u":
      return a <= b ? 1n : 0n;
    case "ge_u":
      return a >= b ? 1n : 0n;
    case "lt_s":
      return signed(a, w) < signed(b, w) ? 1n : 0n;
    case "gt_s":
      return signed(a, w) > signed(b, w) ? 1n : 0n;
    case "le_s":
      return signed(a, w) <= signed(b, w) ? 1n : 0n;
    case "ge_s":
      return signed(a, w) >= signed(b, w) ? 1n : 0n;
  }
  throw new Error(`internal: unknown binary op ${op}`);
}

/** Unary ops; `w` is the operand width, the result width follows the op (wrap → 32, extend_i32 → 64). */
export function unConcrete(op: string, a: bigint, w: number): bigint {
  switch (op) {
    case "eqz":
      return a === 0n ? 1n : 0n;
    case "clz": {
      let n = 0;
      for (let i = w - 1; i >= 0 && !((a >> BigInt(i)) & 1n); i--) n++;
      return BigInt(n);
    }
    case "ctz": {
      let n = 0;
      for (let i = 0; i < w && !((a >> BigInt(i)) & 1n); i++) n++;
      return BigInt(n);
    }
    case "popcnt": {
      let n = 0n;
      for (let x = a; x; x >>= 1n) n += x & 1n;
      return n;
    }
    case "extend8_s":
      return BigInt.asUintN(w, BigInt.asIntN(8, a));
    case "extend16_s":
      return BigInt.asUintN(w, BigInt.asIntN(16, a));
    case "extend32_s":
      return BigInt.asUintN(w, BigInt.asIntN(32, a));
    case "wrap":
      return a & M(32);
    case "extend_u":
      return a;
    case "extend_s":
      return BigInt.asUintN(64, BigInt.asIntN(32, a));
  }
  throw new Error(`internal: unknown unary op ${op}`);
}
