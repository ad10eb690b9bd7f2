/**
 * runtime test support (the second public surface, for tests only; like gateway/testing.ts): hand-written applets
 * in the Wasm text format and the exact-fuel check. Kept out of index.ts so production code never loads wabt.
 */
export { wat, appletWat, MFI_IMPORTS } from "./wat.ts";
export { outcome, fuelRuns } from "./fuel-exact.ts";
