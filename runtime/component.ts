/**
 * `mfi build --component`: wrap an applet as a Wasm component of the world in runtime/wit/applet.wit (jco).
 * Not implemented yet: see componentize() for why.
 */
import { RuntimeBaseError } from "./errors.ts";

export class ComponentError extends RuntimeBaseError {
  override name = "ComponentError";
}

export async function componentize(_opts: { wasmPath: string }): Promise<string> {
  throw new ComponentError("mfi build --component is not available yet", {
    details:
      "the core ABI passes host-written buffers by pointer (input_read, state_get) and a 32-byte device pointer (claim), " +
      "which the canonical ABI cannot lower directly; the component needs a binaryen-generated adapter (cabi_realloc + " +
      "shims from mfi.* to mfi:applet/host) before jco componentNew. The WIT world is in runtime/wit/applet.wit.",
  });
}
