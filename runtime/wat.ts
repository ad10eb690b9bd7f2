/**
 * Test support: hand-written applets in the Wasm text format (hostile ones especially), assembled with wabt.
 * `appletWat` wraps a body in the ABI's shape (all mfi imports, one capped memory, exports memory and mfi_main).
 */
import wabtInit from "wabt";

const wabt = await wabtInit();

/** `names`: keep the function/global/local names in a "name" custom section (as asc's debug builds do). */
export function wat(text: string, opts: { names?: boolean } = {}): Uint8Array {
  const mod = wabt.parseWat("test.wat", text, {
    simd: true,
    threads: true,
    multi_memory: true,
    bulk_memory: true,
    sign_extension: true,
    mutable_globals: true,
    sat_float_to_int: true,
    reference_types: true,
  } as never);
  try {
    mod.resolveNames();
    return mod.toBinary({ write_debug_names: opts.names ?? false }).buffer;
  } finally {
    mod.destroy();
  }
}

export const MFI_IMPORTS = `
  (import "mfi" "log" (func $log (param i32 i32)))
  (import "mfi" "input_len" (func $input_len (result i32)))
  (import "mfi" "input_read" (func $input_read (param i32 i32 i32) (result i32)))
  (import "mfi" "state_get" (func $state_get (param i32 i32 i32 i32 i32) (result i32)))
  (import "mfi" "state_set" (func $state_set (param i32 i32 i32 i32 i32)))
  (import "mfi" "emit" (func $emit (param i32 i32)))
  (import "mfi" "claim" (func $claim (param i32 i64)))
  (import "mfi" "random" (func $random (result i64)))
  (import "mfi" "abort" (func $abort (param i32 i32)))`;

/** An applet whose mfi_main is `main` (WAT instructions); `extra` adds module fields (functions, data, ...). */
export function appletWat(opts: { main: string; extra?: string; memory?: string }): Uint8Array {
  return wat(`(module ${MFI_IMPORTS}
    (memory (export "memory") ${opts.memory ?? "1 2"})
    ${opts.extra ?? ""}
    (func (export "mfi_main") ${opts.main}))`);
}
