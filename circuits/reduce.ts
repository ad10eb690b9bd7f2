/** The reducers' semantics as the circuits compute them (core/reducers.ts on [0, 2^63)), checked before proving. */
import type { Reducer } from "./catalog.ts";
import { ValueRangeError, InvalidProveOptionsError } from "./errors.ts";
// The runtime's reference and the circuits share one definition; this file adds the circuits' value range.
import { foldReducer } from "../core/index.ts";

export const MAX_REDUCED = (1n << 63n) - 1n;

export function reduce(reducer: Reducer, values: readonly bigint[], param?: bigint): bigint {
  if (reducer === "count_above") {
    if (param === undefined || param < 0n || param > MAX_REDUCED)
      throw new InvalidProveOptionsError(`count_above needs params.threshold in [0, 2^63), got ${param}`, {
        docsPath: "docs/circuits.md#reducers",
      });
  }
  values.forEach((v, i) => {
    if (v < 0n || v > MAX_REDUCED)
      throw new ValueRangeError(`reading ${i} of the epoch has values[0] = ${v}, outside [0, 2^63)`, {
        details: "reducers take non-negative i64 values; shift or scale the applet's fixed-point encoding",
        docsPath: "docs/circuits.md#reducers",
      });
  });
  return foldReducer(reducer, param, values);
}
