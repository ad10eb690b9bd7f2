/** The reducers' reference semantics (what the circuits compute), used to check the applet's claim before proving. */
import type { Reducer } from "./catalog.ts";
import { ValueRangeError, InvalidProveOptionsError } from "./errors.ts";

export const MAX_REDUCED = (1n << 63n) - 1n;

export function reduce(reducer: Reducer, values: readonly bigint[], param?: bigint): bigint {
  if (reducer === "count_above") {
    if (param === undefined || param < 0n || param > MAX_REDUCED) throw new InvalidProveOptionsError(`count_above needs params.threshold in [0, 2^63), got ${param}`, { docsPath: "docs/circuits.md#reducers" });
  }
  values.forEach((v, i) => {
    if (v < 0n || v > MAX_REDUCED) throw new ValueRangeError(`reading ${i} of the epoch has values[0] = ${v}, outside [0, 2^63)`, { details: "reducers take non-negative i64 values; shift or scale the applet's fixed-point encoding", docsPath: "docs/circuits.md#reducers" });
  });
  switch (reducer) {
    case "sum":
      return values.reduce((a, v) => a + v, 0n);
    case "count_above":
      return BigInt(values.filter((v) => v > param!).length);
    case "max":
      return values.reduce((a, v) => (v > a ? v : a), 0n);
  }
}
