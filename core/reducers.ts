/**
 * The tier-1 reducers over values[0] of a device's epoch readings: ONE definition, used by the runtime's reference
 * (toolchain/applets.ts referenceClaims: what an applet must claim) and by the circuits' (circuits/reduce.ts: what a proof
 * states). They used to be written twice and disagreed on negative values for max. In core/ (dependency-free) so both
 * import it without loading each other.
 * The circuits accept only values in [0, 2^63) and refuse the rest; on that range both sides compute this.
 */
export type ReducerName = "sum" | "count_above" | "max";

/** sum; count of v > param (strict); max from 0 (an epoch of negative values has max 0). */
export function foldReducer(reducer: ReducerName, param: bigint | undefined, values: readonly bigint[]): bigint {
  switch (reducer) {
    case "sum":
      return values.reduce((a, v) => a + v, 0n);
    case "count_above":
      return BigInt(values.filter((v) => v > (param ?? 0n)).length);
    case "max":
      return values.reduce((a, v) => (v > a ? v : a), 0n);
  }
}
