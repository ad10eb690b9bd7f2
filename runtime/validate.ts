/**
 * Load-time validation: the gate that keeps everything non-deterministic or unbounded out of the runtime.
 * Rules (docs/abi.md#validation): integer-only core Wasm (plus sign-extension and bulk memory), exactly one memory
 * with a maximum no larger than the engine's cap, imports only from `mfi` with the ABI's signatures, no start
 * section, at most one funcref table that never grows, exports `memory` and `mfi_main: [] -> []`, no export named
 * `__mfi…` (the metering pass's own).
 */
import { withSourceNames } from "./names.ts";
import { ENTRY_EXPORT, INIT_EXPORT, MEMORY_EXPORT } from "./abi.ts";
import { ValidationError } from "./errors.ts";
import { fail } from "./validate-rules.ts";
import { SECTIONS, type ScanState } from "./validate-sections.ts";
import { Reader } from "./wasm-reader.ts";

export interface ModuleInfo {
  memoryMinPages: number;
  memoryMaxPages: number;
  /** The applet exports `_initialize` (asc --exportStart), which the host runs before `mfi_main`. */
  hasInit: boolean;
  importedFunctions: number;
  /** The module has passive data segments (memory.init/data.drop change them at run time: no instance reuse). */
  passiveData: boolean;
}

export function validateModule(bytes: Uint8Array, opts: { memoryCapPages: number }): ModuleInfo {
  if (
    !(bytes instanceof Uint8Array) ||
    bytes.length < 8 ||
    bytes[0] !== 0 ||
    bytes[1] !== 0x61 ||
    bytes[2] !== 0x73 ||
    bytes[3] !== 0x6d
  ) {
    fail(
      "these bytes are not a WebAssembly module (no \\0asm header)",
      { code: "NotWasm" },
      "pass the .wasm file asc produced (build/applets/<name>.wasm), not its text or a component",
    );
  }
  if (bytes[4] !== 1 || bytes[5] !== 0 || bytes[6] !== 0 || bytes[7] !== 0) {
    fail("only core WebAssembly modules (version 1) are accepted; this looks like a component or another version", {
      code: "NotWasm",
    });
  }
  let compileError: Error | undefined;
  try {
    new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>);
  } catch (err) {
    compileError = err as Error;
  }
  // Our own rules first even when V8 refuses the module: "two memories" is a clearer answer than V8's message.
  let info: ModuleInfo;
  try {
    info = scan(bytes, opts);
  } catch (err) {
    if (err instanceof ValidationError && (err.code !== "InvalidWasm" || !compileError))
      throw withSourceNames(err, bytes);
    fail("the WebAssembly module does not compile", { code: "InvalidWasm" }, compileError?.message);
  }
  if (compileError) fail("the WebAssembly module does not compile", { code: "InvalidWasm" }, compileError.message);
  return info!;
}

/** The module's sections in order, each checked by the reader named for it; the rules that span sections last. */
function scan(bytes: Uint8Array, opts: { memoryCapPages: number }): ModuleInfo {
  const st: ScanState = {
    bytes,
    memoryCapPages: opts.memoryCapPages,
    types: [],
    funcTypes: [],
    importedFunctions: 0,
    memories: 0,
    memoryMin: 0,
    memoryMax: -1,
    passiveData: false,
    exports: new Map(),
    pendingTypeCheck: [],
  };
  for (const r = new Reader(bytes, 8); !r.done;) {
    const id = r.u8();
    if (id !== 1 && id !== 2 && id !== 0) st.pendingTypeCheck.splice(0).forEach((f) => f());
    const size = r.u32();
    const start = r.pos;
    const read = SECTIONS[id];
    if (read) read(st, new Reader(bytes, start, start + size));
    else if (id === 13) fail("exception tags are not allowed", { code: "UnsupportedSection" });
    // 0: custom sections carry names/debug info only; 9: element segments reference functions only; 12: data
    // count is a number.
    else if (id !== 0 && id !== 9 && id !== 12)
      fail(`unknown section id ${id}`, { code: "UnsupportedSection", offset: start });
    r.pos = start + size;
  }
  st.pendingTypeCheck.splice(0).forEach((f) => f());
  return checkInterface(st);
}

/** The applet's interface: one memory exported as memory, mfi_main (and _initialize) taking and returning nothing. */
function checkInterface(st: ScanState): ModuleInfo {
  const { exports, types, funcTypes } = st;
  if (st.memories === 0)
    fail("the module has no memory", { code: "MissingMemory" }, `export one memory named "${MEMORY_EXPORT}"`);
  const mem = exports.get(MEMORY_EXPORT);
  if (!mem || mem.kind !== 2)
    fail(`the module does not export its memory as "${MEMORY_EXPORT}"`, { code: "MissingExport" });
  const entry = exports.get(ENTRY_EXPORT);
  if (!entry || entry.kind !== 0)
    fail(
      `the module does not export the entry function "${ENTRY_EXPORT}"`,
      { code: "MissingExport" },
      "export function mfi_main(): void from the applet's index.ts (the SDK's run() helper does this)",
    );
  for (const name of [ENTRY_EXPORT, INIT_EXPORT]) {
    const e = exports.get(name);
    if (!e || e.kind !== 0) continue;
    const t = types[funcTypes[e.index]!];
    if (!t || t.params.length || t.results.length)
      fail(`"${name}" must take no arguments and return nothing`, {
        code: "EntrySignatureMismatch",
        functionIndex: e.index,
      });
  }
  return {
    memoryMinPages: st.memoryMin,
    memoryMaxPages: st.memoryMax,
    hasInit: exports.get(INIT_EXPORT)?.kind === 0,
    importedFunctions: st.importedFunctions,
    passiveData: st.passiveData,
  };
}
