/**
 * Load-time validation: the gate that keeps everything non-deterministic or unbounded out of the runtime.
 * Rules (docs/abi.md#validation): integer-only core Wasm (plus sign-extension and bulk memory), exactly one memory
 * with a maximum no larger than the engine's cap, imports only from `mfi` with the ABI's signatures, no start
 * section, at most one funcref table that never grows, exports `memory` and `mfi_main: [] -> []`, no export named
 * `__mfi…` (the metering pass's own).
 */
import { ENTRY_EXPORT, IMPORT_MODULE, IMPORTS, INIT_EXPORT, MEMORY_EXPORT, type ImportName } from "./abi.ts";
import { ValidationError, type ValidationErrorInfo } from "./errors.ts";
import { Reader, VALTYPE_NAMES, atomicOpName, fcOpName, floatOpName } from "./wasm-reader.ts";

export interface ModuleInfo {
  memoryMinPages: number;
  memoryMaxPages: number;
  /** The applet exports `_initialize` (asc --exportStart), which the host runs before `mfi_main`. */
  hasInit: boolean;
  importedFunctions: number;
  /** The module has passive data segments (memory.init/data.drop change them at run time: no instance reuse). */
  passiveData: boolean;
}

/** Export names the metering pass adds (fuel.ts FUEL_GLOBAL, TRAP_GLOBAL, RESET_EXPORT) start with this. */
const RESERVED_PREFIX = "__mfi";

interface FuncType {
  params: number[];
  results: number[];
}

const fail = (msg: string, info: ValidationErrorInfo, details?: string): never => {
  throw new ValidationError(msg, info, { details });
};

export function validateModule(bytes: Uint8Array, opts: { memoryCapPages: number }): ModuleInfo {
  if (!(bytes instanceof Uint8Array) || bytes.length < 8 || bytes[0] !== 0 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d) {
    fail("these bytes are not a WebAssembly module (no \\0asm header)", { code: "NotWasm" }, "pass the .wasm file asc produced (build/applets/<name>.wasm), not its text or a component");
  }
  if (bytes[4] !== 1 || bytes[5] !== 0 || bytes[6] !== 0 || bytes[7] !== 0) {
    fail("only core WebAssembly modules (version 1) are accepted; this looks like a component or another version", { code: "NotWasm" });
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
    if (err instanceof ValidationError && (err.code !== "InvalidWasm" || !compileError)) throw err;
    fail("the WebAssembly module does not compile", { code: "InvalidWasm" }, compileError?.message);
  }
  if (compileError) fail("the WebAssembly module does not compile", { code: "InvalidWasm" }, compileError.message);
  return info!;
}

function scan(bytes: Uint8Array, opts: { memoryCapPages: number }): ModuleInfo {
  const types: FuncType[] = [];
  const funcTypes: number[] = [];
  let importedFunctions = 0;
  let memories = 0;
  let memoryMin = 0;
  let memoryMax = -1;
  let passiveData = false;
  const exports = new Map<string, { kind: number; index: number }>();
  const r = new Reader(bytes, 8);

  const pendingTypeCheck: (() => void)[] = [];
  while (!r.done) {
    const id = r.u8();
    if (id !== 1 && id !== 2 && id !== 0) pendingTypeCheck.splice(0).forEach((f) => f());
    const size = r.u32();
    const start = r.pos;
    const s = new Reader(bytes, start, start + size);
    switch (id) {
      case 0: break; // custom sections carry names/debug info only
      case 1: {
        for (let n = s.u32(), i = 0; i < n; i++) {
          const form = s.u8();
          if (form !== 0x60) fail(`type ${i} is not a function type (GC types are not supported)`, { code: "UnsupportedInstruction", offset: s.pos });
          const params = Array.from({ length: s.u32() }, () => s.u8());
          const results = Array.from({ length: s.u32() }, () => s.u8());
          // Reported after the imports, so an asc import such as env.seed (-> f64) is named as the import it is.
          for (const t of [...params, ...results]) pendingTypeCheck.push(() => checkValType(t, {}, `function type ${i}`));
          // The metering pass hands the fuel counter back as one more result: functions return at most one value.
          if (results.length > 1) pendingTypeCheck.push(() => fail(`function type ${i} returns ${results.length} values (multi-value results are not supported)`, { code: "UnsupportedInstruction", offset: s.pos }, "return one i32/i64, or write the values to memory"));
          types.push({ params, results });
        }
        break;
      }
      case 2: {
        for (let n = s.u32(), i = 0; i < n; i++) {
          const mod = s.name();
          const name = s.name();
          const kind = s.u8();
          const what = `${mod}.${name}`;
          if (mod !== IMPORT_MODULE || kind !== 0 || !(name in IMPORTS)) {
            const hint = mod === "env" ? "asc added it: build with the SDK's asconfig (abort routed to mfi.abort, no Math.random/Date/trace)" : `applets may import only functions from "${IMPORT_MODULE}": ${Object.keys(IMPORTS).join(", ")}`;
            fail(`forbidden import ${what}`, { code: "ForbiddenImport", import: what, offset: s.pos }, hint);
          }
          const typeIndex = s.u32();
          const spec = IMPORTS[name as ImportName];
          const t = types[typeIndex];
          const want = (xs: readonly string[]) => xs.join(",");
          const got = (xs: number[] | undefined) => (xs ?? []).map((x) => VALTYPE_NAMES[x] ?? `0x${x.toString(16)}`).join(",");
          if (!t || got(t.params) !== want(spec.params) || got(t.results) !== want(spec.results)) {
            fail(`import ${what} has the wrong signature`, { code: "ImportSignatureMismatch", import: what, functionIndex: importedFunctions }, `expected (${want(spec.params)}) -> (${want(spec.results)}), got (${got(t?.params)}) -> (${got(t?.results)})`);
          }
          funcTypes.push(typeIndex);
          importedFunctions++;
        }
        break;
      }
      case 3:
        for (let n = s.u32(), i = 0; i < n; i++) funcTypes.push(s.u32());
        break;
      case 4: {
        const n = s.u32();
        if (n > 1) fail(`the module declares ${n} tables; at most one funcref table is allowed`, { code: "UnsupportedTable" });
        for (let i = 0; i < n; i++) {
          const ref = s.u8();
          if (ref !== 0x70) fail("only a funcref table is allowed", { code: "UnsupportedTable", offset: s.pos });
          readLimits(s);
        }
        break;
      }
      case 5: {
        const n = s.u32();
        memories += n;
        if (memories > 1) fail(`the module declares ${memories} memories; exactly one is allowed`, { code: "MultipleMemories" });
        for (let i = 0; i < n; i++) {
          const flags = s.u8();
          if (flags & 0x02) fail("shared memory is not allowed (no threads in applets)", { code: "SharedMemory" });
          if (flags & 0x04) fail("64-bit memory is not allowed", { code: "Memory64" });
          memoryMin = s.u32();
          if (!(flags & 0x01)) fail("the memory has no maximum; the runtime needs one to bound an applet", { code: "MissingMemoryMaximum" }, `build with asc --maximumMemory <pages> (at most ${opts.memoryCapPages})`);
          memoryMax = s.u32();
          if (memoryMax > opts.memoryCapPages) fail(`the memory maximum of ${memoryMax} pages is above the engine cap of ${opts.memoryCapPages}`, { code: "MemoryMaximumTooLarge" }, `lower asc --maximumMemory to ${opts.memoryCapPages} or raise Engine memoryPages`);
        }
        break;
      }
      case 6: {
        for (let n = s.u32(), i = 0; i < n; i++) {
          checkValType(s.u8(), { offset: s.pos }, `global ${i}`);
          s.u8();
          checkConstExpr(s);
        }
        break;
      }
      case 7:
        for (let n = s.u32(), i = 0; i < n; i++) {
          const name = s.name();
          const kind = s.u8();
          if (name.startsWith(RESERVED_PREFIX)) fail(`the export "${name}" uses the runtime's reserved prefix ${RESERVED_PREFIX}`, { code: "ReservedName" }, "rename the export; the metering pass adds its own __mfi_* exports");
          exports.set(name, { kind, index: s.u32() });
        }
        break;
      case 8:
        fail("the module has a start function; applets must not run code at instantiation", { code: "StartFunction", functionIndex: s.u32() }, "build with asc --exportStart _initialize (the SDK's asconfig does)");
        break;
      case 9:
      case 12:
        break; // element segments reference functions only; data count is a number
      case 10: {
        const n = s.u32();
        for (let i = 0; i < n; i++) {
          const bodySize = s.u32();
          const bodyEnd = s.pos + bodySize;
          checkCode(new Reader(bytes, s.pos, bodyEnd), importedFunctions + i);
          s.pos = bodyEnd;
        }
        break;
      }
      case 11: {
        for (let n = s.u32(), i = 0; i < n; i++) {
          const flags = s.u32();
          let offset: number | undefined;
          if (flags === 1) {
            passiveData = true;
          } else {
            if (flags === 2) s.u32();
            offset = constI32(s);
          }
          const len = s.u32();
          s.skip(len);
          if (offset !== undefined && offset + len > memoryMin * 65536) {
            fail(`data segment ${i} (${len} bytes at ${offset}) does not fit in the initial memory of ${memoryMin} pages`, { code: "DataSegmentOutOfBounds" });
          }
        }
        break;
      }
      case 13:
        fail("exception tags are not allowed", { code: "UnsupportedSection" });
        break;
      default:
        fail(`unknown section id ${id}`, { code: "UnsupportedSection", offset: start });
    }
    r.pos = start + size;
  }

  pendingTypeCheck.splice(0).forEach((f) => f());
  if (memories === 0) fail("the module has no memory", { code: "MissingMemory" }, `export one memory named "${MEMORY_EXPORT}"`);
  const mem = exports.get(MEMORY_EXPORT);
  if (!mem || mem.kind !== 2) fail(`the module does not export its memory as "${MEMORY_EXPORT}"`, { code: "MissingExport" });
  const entry = exports.get(ENTRY_EXPORT);
  if (!entry || entry.kind !== 0) fail(`the module does not export the entry function "${ENTRY_EXPORT}"`, { code: "MissingExport" }, "export function mfi_main(): void from the applet's index.ts (the SDK's run() helper does this)");
  for (const name of [ENTRY_EXPORT, INIT_EXPORT]) {
    const e = exports.get(name);
    if (!e || e.kind !== 0) continue;
    const t = types[funcTypes[e.index]!];
    if (!t || t.params.length || t.results.length) fail(`"${name}" must take no arguments and return nothing`, { code: "EntrySignatureMismatch", functionIndex: e.index });
  }
  return { memoryMinPages: memoryMin, memoryMaxPages: memoryMax, hasInit: exports.get(INIT_EXPORT)?.kind === 0, importedFunctions, passiveData };
}

function checkValType(t: number, info: Omit<ValidationErrorInfo, "code">, where: string): void {
  if (t === 0x7d || t === 0x7c) fail(`${where} uses the float type ${VALTYPE_NAMES[t]}`, { code: "FloatType", opcode: VALTYPE_NAMES[t], ...info });
  if (t === 0x7b) fail(`${where} uses the SIMD type v128`, { code: "SimdInstruction", opcode: "v128", ...info });
  if (t !== 0x7f && t !== 0x7e) fail(`${where} uses the unsupported type ${VALTYPE_NAMES[t] ?? "0x" + t.toString(16)}`, { code: "UnsupportedInstruction", ...info });
}

function readLimits(s: Reader): void {
  const flags = s.u8();
  s.u32();
  if (flags & 1) s.u32();
}

function constI32(s: Reader): number {
  const op = s.u8();
  if (op !== 0x41) fail("data segment offsets must be i32.const", { code: "UnsupportedInstruction", offset: s.pos });
  // Decode the sleb value itself: it decides whether the segment fits.
  let result = 0;
  let shift = 0;
  let b: number;
  do {
    b = s.u8();
    result |= (b & 0x7f) << shift;
    shift += 7;
  } while (b & 0x80 && shift < 35);
  if (shift < 32 && b & 0x40) result |= -1 << shift;
  if (s.u8() !== 0x0b) fail("malformed constant expression", { code: "InvalidWasm", offset: s.pos });
  return result >>> 0;
}

function checkConstExpr(s: Reader): void {
  for (;;) {
    const op = s.u8();
    if (op === 0x0b) return;
    if (op === 0x41 || op === 0x42) s.sleb();
    else if (op === 0x23 || op === 0xd2) s.u32();
    else if (op === 0x43 || op === 0x44) fail(`a global initializer uses ${floatOpName(op)}`, { code: "FloatInstruction", opcode: floatOpName(op), offset: s.pos });
    else fail(`unsupported constant expression opcode 0x${op.toString(16)}`, { code: "UnsupportedInstruction", offset: s.pos });
  }
}

/** Walk one function body, rejecting the first forbidden instruction with its name and the function index. */
function checkCode(s: Reader, functionIndex: number): void {
  for (let n = s.u32(), i = 0; i < n; i++) {
    s.u32();
    checkValType(s.u8(), { functionIndex, offset: s.pos }, `a local of function ${functionIndex}`);
  }
  const reject = (code: ValidationErrorInfo["code"], opcode: string, why: string): never =>
    fail(`function ${functionIndex} uses ${opcode}: ${why}`, { code, opcode, functionIndex, offset: s.pos });
  while (!s.done) {
    const op = s.u8();
    const float = floatOpName(op);
    if (float) reject("FloatInstruction", float, "floating point is not deterministic across hosts; use integers or fixed point");
    if (op <= 0x01 || op === 0x05 || op === 0x0b || op === 0x0f || op === 0x1a || op === 0x1b) continue;
    if (op >= 0x02 && op <= 0x04) {
      const bt = s.blockType();
      if (bt === 0x7d || bt === 0x7c) reject("FloatType", VALTYPE_NAMES[bt]!, "a block returns a float");
      if (bt === 0x7b) reject("SimdInstruction", "v128", "a block returns a SIMD value");
      continue;
    }
    if (op === 0x0c || op === 0x0d || op === 0x10 || (op >= 0x20 && op <= 0x24)) {
      s.u32();
      continue;
    }
    if (op === 0x0e) {
      for (let k = s.u32(); k >= 0; k--) s.u32();
      continue;
    }
    if (op === 0x11) {
      s.u32();
      s.u32();
      continue;
    }
    if (op === 0x1c) {
      for (let k = s.u32(); k > 0; k--) checkValType(s.u8(), { functionIndex, offset: s.pos }, `select in function ${functionIndex}`);
      continue;
    }
    if (op >= 0x28 && op <= 0x3e) {
      const align = s.u32();
      if (align & 0x40) reject("MultipleMemories", "memarg memidx", "only one memory is allowed");
      s.u32();
      continue;
    }
    if (op === 0x3f || op === 0x40) {
      if (s.u8() !== 0) reject("MultipleMemories", op === 0x3f ? "memory.size" : "memory.grow", "only memory 0 exists");
      continue;
    }
    if (op === 0x41 || op === 0x42) {
      s.sleb();
      continue;
    }
    if ((op >= 0x45 && op <= 0x5a) || (op >= 0x67 && op <= 0x8a) || op === 0xa7 || op === 0xac || op === 0xad || (op >= 0xc0 && op <= 0xc4)) continue;
    if (op === 0xd0) {
      s.u8(); // ref.null alone is harmless; what could use it (table ops, ref.is_null) is refused below
      continue;
    }
    if (op === 0xfc) {
      const sub = s.u32();
      if (sub <= 7) reject("FloatInstruction", fcOpName(sub), "floating point is not deterministic across hosts");
      if (sub === 8) {
        s.u32();
        s.u8();
        continue;
      }
      if (sub === 9) {
        s.u32();
        continue;
      }
      if (sub === 10) {
        s.u8();
        s.u8();
        continue;
      }
      if (sub === 11) {
        s.u8();
        continue;
      }
      if (sub === 15) reject("TableGrowth", "table.grow", "the function table must not grow");
      reject("UnsupportedInstruction", fcOpName(sub), "table operations other than call_indirect are not supported");
    }
    if (op === 0xfd) reject("SimdInstruction", `simd op ${s.u32()}`, "SIMD is not allowed (build without --enable simd)");
    if (op === 0xfe) reject("AtomicInstruction", atomicOpName(s.u32()), "threads and atomics are not allowed");
    const names: Record<number, string> = { 0x06: "try", 0x08: "throw", 0x12: "return_call", 0x13: "return_call_indirect", 0x1f: "try_table", 0x25: "table.get", 0x26: "table.set", 0xd0: "ref.null", 0xd1: "ref.is_null", 0xd2: "ref.func", 0xfb: "gc op" };
    reject("UnsupportedInstruction", names[op] ?? `opcode 0x${op.toString(16)}`, "only integer core Wasm, sign-extension and bulk memory are supported");
  }
}
