// Integer and fixed-point helpers: applets never use floats (the runtime refuses f32/f64).

/** Fixed point with `decimals` decimal places: toFixed(12, 3) = 12000. */
export function toFixed(whole: i64, decimals: u32): i64 {
  return whole * pow10(decimals);
}
export function pow10(n: u32): i64 {
  let r: i64 = 1;
  for (let i: u32 = 0; i < n; i++) r *= 10;
  return r;
}
/** a * b / scale with the product in 128 bits' worth of care: saturates instead of wrapping. */
export function mulDiv(a: i64, b: i64, scale: i64): i64 {
  if (scale == 0) return 0;
  const hi = a / scale;
  const lo = a % scale;
  return hi * b + (lo * b) / scale;
}
export function saturatingAddU64(a: u64, b: u64): u64 {
  const s = a + b;
  return s < a ? u64.MAX_VALUE : s;
}
export function minI64(a: i64, b: i64): i64 {
  return a < b ? a : b;
}
export function maxI64(a: i64, b: i64): i64 {
  return a > b ? a : b;
}
/** Integer average rounded toward zero (0 for n = 0). */
export function avg(sum: i64, n: i64): i64 {
  return n == 0 ? 0 : sum / n;
}
