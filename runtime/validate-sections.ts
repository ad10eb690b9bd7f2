/** One reader per section of a module, each enforcing that section's rules; validate.ts runs them in order. */
import { IMPORT_MODULE, IMPORTS, type ImportName } from "./abi.ts";
import {
  RESERVED_PREFIX,
  checkCode,
  checkConstExpr,
  checkValType,
  constI32,
  fail,
  readLimits,
  type FuncType,
} from "./validate-rules.ts";
import { Reader, VALTYPE_NAMES } from "./wasm-reader.ts";

/** What a scan carries from one section to the next. */
export interface ScanState {
  bytes: Uint8Array;
  memoryCapPages: number;
  types: FuncType[];
  /** Type index of every function, imports first. */
  funcTypes: number[];
  importedFunctions: number;
  memories: number;
  memoryMin: number;
  memoryMax: number;
  passiveData: boolean;
  exports: Map<string, { kind: number; index: number }>;
  /** Type checks deferred until the imports are read. */
  pendingTypeCheck: (() => void)[];
}

/** Function types; their value types are checked once the imports are read (so an import is named as itself). */
function typeSection(st: ScanState, s: Reader): void {
  for (let n = s.u32(), i = 0; i < n; i++) {
    const form = s.u8();
    if (form !== 0x60)
      fail(`type ${i} is not a function type (GC types are not supported)`, {
        code: "UnsupportedInstruction",
        offset: s.pos,
      });
    const params = Array.from({ length: s.u32() }, () => s.u8());
    const results = Array.from({ length: s.u32() }, () => s.u8());
    // Reported after the imports, so an asc import such as env.seed (-> f64) is named as the import it is.
    for (const t of [...params, ...results]) st.pendingTypeCheck.push(() => checkValType(t, {}, `function type ${i}`));
    // The metering pass hands the fuel counter back as one more result: functions return at most one value.
    if (results.length > 1)
      st.pendingTypeCheck.push(() =>
        fail(
          `function type ${i} returns ${results.length} values (multi-value results are not supported)`,
          { code: "UnsupportedInstruction", offset: s.pos },
          "return one i32/i64, or write the values to memory",
        ),
      );
    st.types.push({ params, results });
  }
}

/** Imports: only functions of module mfi, each with the ABI's signature. */
function importSection(st: ScanState, s: Reader): void {
  for (let n = s.u32(), i = 0; i < n; i++) {
    const mod = s.name();
    const name = s.name();
    const kind = s.u8();
    const what = `${mod}.${name}`;
    if (mod !== IMPORT_MODULE || kind !== 0 || !(name in IMPORTS)) {
      // What the source wrote to get this import, and what to write instead.
      const hint =
        what === "env.seed"
          ? "Math.random() compiles to this import: use random() from the SDK (seeded from the run's input)"
          : what === "env.Date.now"
            ? "Date.now() compiles to this import: time comes from readings, use readingTs(i) / epochStart() from the SDK"
            : mod === "env"
              ? "asc added it: build with the SDK's asconfig (abort routed to mfi.abort, no Math.random/Date/trace)"
              : `applets may import only functions from "${IMPORT_MODULE}": ${Object.keys(IMPORTS).join(", ")}`;
      fail(`forbidden import ${what}`, { code: "ForbiddenImport", import: what, offset: s.pos }, hint);
    }
    const typeIndex = s.u32();
    const spec = IMPORTS[name as ImportName];
    const t = st.types[typeIndex];
    const want = (xs: readonly string[]) => xs.join(",");
    const got = (xs: number[] | undefined) =>
      (xs ?? []).map((x) => VALTYPE_NAMES[x] ?? `0x${x.toString(16)}`).join(",");
    if (!t || got(t.params) !== want(spec.params) || got(t.results) !== want(spec.results)) {
      fail(
        `import ${what} has the wrong signature`,
        { code: "ImportSignatureMismatch", import: what, functionIndex: st.importedFunctions },
        `expected (${want(spec.params)}) -> (${want(spec.results)}), got (${got(t?.params)}) -> (${got(t?.results)})`,
      );
    }
    st.funcTypes.push(typeIndex);
    st.importedFunctions++;
  }
}

/** Each defined function's type index. */
function functionSection(st: ScanState, s: Reader): void {
  for (let n = s.u32(), i = 0; i < n; i++) st.funcTypes.push(s.u32());
}

/** At most one funcref table. */
function tableSection(st: ScanState, s: Reader): void {
  const n = s.u32();
  if (n > 1)
    fail(`the module declares ${n} tables; at most one funcref table is allowed`, { code: "UnsupportedTable" });
  for (let i = 0; i < n; i++) {
    const ref = s.u8();
    if (ref !== 0x70) fail("only a funcref table is allowed", { code: "UnsupportedTable", offset: s.pos });
    readLimits(s);
  }
}

/** Exactly one memory: unshared, 32-bit, with a maximum within the engine's cap. */
function memorySection(st: ScanState, s: Reader): void {
  const n = s.u32();
  st.memories += n;
  if (st.memories > 1)
    fail(`the module declares ${st.memories} memories; exactly one is allowed`, { code: "MultipleMemories" });
  for (let i = 0; i < n; i++) {
    const flags = s.u8();
    if (flags & 0x02) fail("shared memory is not allowed (no threads in applets)", { code: "SharedMemory" });
    if (flags & 0x04) fail("64-bit memory is not allowed", { code: "Memory64" });
    st.memoryMin = s.u32();
    if (!(flags & 0x01))
      fail(
        "the memory has no maximum; the runtime needs one to bound an applet",
        { code: "MissingMemoryMaximum" },
        `build with asc --maximumMemory <pages> (at most ${st.memoryCapPages})`,
      );
    st.memoryMax = s.u32();
    if (st.memoryMax > st.memoryCapPages)
      fail(
        `the memory maximum of ${st.memoryMax} pages is above the engine cap of ${st.memoryCapPages}`,
        { code: "MemoryMaximumTooLarge" },
        `lower asc --maximumMemory to ${st.memoryCapPages} or raise Engine memoryPages`,
      );
  }
}

/** Globals: i32/i64 only, constant initialisers. */
function globalSection(st: ScanState, s: Reader): void {
  for (let n = s.u32(), i = 0; i < n; i++) {
    checkValType(s.u8(), { offset: s.pos }, `global ${i}`);
    s.u8();
    checkConstExpr(s);
  }
}

/** Exports: none with the reserved prefix. */
function exportSection(st: ScanState, s: Reader): void {
  for (let n = s.u32(), i = 0; i < n; i++) {
    const name = s.name();
    const kind = s.u8();
    if (name.startsWith(RESERVED_PREFIX))
      fail(
        `the export "${name}" uses the runtime's reserved prefix ${RESERVED_PREFIX}`,
        { code: "ReservedName" },
        "rename the export; the metering pass adds its own __mfi_* exports",
      );
    st.exports.set(name, { kind, index: s.u32() });
  }
}

/** No start function. */
function startSection(st: ScanState, s: Reader): void {
  fail(
    "the module has a start function; applets must not run code at instantiation",
    { code: "StartFunction", functionIndex: s.u32() },
    "build with asc --exportStart _initialize (the SDK's asconfig does)",
  );
}

/** Function bodies: only the allowed instructions (checkCode). */
function codeSection(st: ScanState, s: Reader): void {
  const n = s.u32();
  for (let i = 0; i < n; i++) {
    const bodySize = s.u32();
    const bodyEnd = s.pos + bodySize;
    checkCode(new Reader(st.bytes, s.pos, bodyEnd), st.importedFunctions + i);
    s.pos = bodyEnd;
  }
}

/** Data segments: active ones must fit the initial memory. */
function dataSection(st: ScanState, s: Reader): void {
  for (let n = s.u32(), i = 0; i < n; i++) {
    const flags = s.u32();
    let offset: number | undefined;
    if (flags === 1) {
      st.passiveData = true;
    } else {
      if (flags === 2) s.u32();
      offset = constI32(s);
    }
    const len = s.u32();
    s.skip(len);
    if (offset !== undefined && offset + len > st.memoryMin * 65536) {
      fail(
        `data segment ${i} (${len} bytes at ${offset}) does not fit in the initial memory of ${st.memoryMin} pages`,
        { code: "DataSegmentOutOfBounds" },
      );
    }
  }
}

export const SECTIONS: Record<number, (st: ScanState, s: Reader) => void> = {
  1: typeSection,
  2: importSection,
  3: functionSection,
  4: tableSection,
  5: memorySection,
  6: globalSection,
  7: exportSection,
  8: startSection,
  10: codeSection,
  11: dataSection,
};
