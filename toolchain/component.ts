/**
 * `mfi build --component`: wrap an applet as a Wasm component of the world in toolchain/wit/applet.wit, for hosts
 * that speak the component model (an export, not the runtime's own path: the core runtime runs the core module).
 *
 * The core ABI passes host-filled buffers by pointer (input_read, state_get) and a deviceId as a pointer to 32
 * bytes; the canonical ABI cannot lower that directly. So a binaryen pass turns each `mfi.*` import into a small
 * adapter function over the WIT import (`mfi:applet/host@0.1.0`):
 *   - lists going out are (ptr, len) pairs, a deviceId is (ptr, 32), an absent state value is `none`;
 *   - lists coming back (input-read, state-get) are never longer than the room the guest passed, so the module's
 *     `cabi_realloc` simply hands out that destination buffer (once per call) and the host writes in place;
 *   - the 8/16-byte return area borrows 16 bytes of the guest's memory outside the destination, saved in locals
 *     before the call and restored after, so the applet's own memory is left exactly as the core host leaves it.
 * The applet's `_initialize` + `mfi_main` become the world's `run` export. Then jco embeds the WIT and makes the
 * component. The component is built from the original (unmetered) applet: fuel is this runtime's, a component
 * host bounds execution its own way. Layout and differences: docs/abi.md#component.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import binaryen from "binaryen";
import { ENTRY_EXPORT, IMPORT_MODULE, IMPORTS, INIT_EXPORT, MEMORY_EXPORT, type ImportName } from "../runtime/index.ts";
import { RuntimeBaseError } from "../runtime/index.ts";
import { validateModule } from "../runtime/index.ts";

export class ComponentError extends RuntimeBaseError {
  override name = "ComponentError";
}

export const WIT_PATH = join(import.meta.dirname, "wit", "applet.wit");
export const WIT_WORLD = "applet";
/** The core import module the component's WIT interface lowers to. */
export const HOST_INTERFACE = "mfi:applet/host@0.1.0";
export const RUN_EXPORT = "run";

const FEATURES =
  binaryen.Features.MutableGlobals |
  binaryen.Features.SignExt |
  binaryen.Features.BulkMemory |
  binaryen.Features.BulkMemoryOpt;
const { i32, i64, none } = binaryen;

/** The adapted core module (WIT imports, `run` and `cabi_realloc` exports), before jco embeds the world. */
export function adaptCoreModule(wasm: Uint8Array): Uint8Array {
  const info = validateModule(wasm, { memoryCapPages: 65536 });
  const m = (binaryen.readBinary as (b: Uint8Array, f: number) => binaryen.Module)(wasm, FEATURES);
  try {
    const dstG = "__mfi_cabi_dst";
    const capG = "__mfi_cabi_cap";
    m.addGlobal(dstG, i32, true, m.i32.const(0));
    m.addGlobal(capG, i32, true, m.i32.const(0));
    const wit = (name: ImportName, params: number[], results: number) => {
      const internal = `__mfi_wit_${name}`;
      m.addFunctionImport(internal, HOST_INTERFACE, name.replace(/_/g, "-"), binaryen.createType(params), results);
      return internal;
    };
    const p = (i: number) => m.local.get(i, i32);
    const lg = (i: number, t = i32) => m.local.get(i, t);
    /** Borrow 16 bytes at `a` for a return area: save, call, read, restore (locals s0, s1 are i64). */
    const borrow = (
      a: number,
      s0: number,
      s1: number,
      call: binaryen.ExpressionRef,
      read: binaryen.ExpressionRef[],
      result: binaryen.ExpressionRef | null,
    ) => [
      m.local.set(s0, m.i64.load(0, 8, lg(a))),
      m.local.set(s1, m.i64.load(8, 8, lg(a))),
      call,
      ...read,
      m.i64.store(0, 8, lg(a), lg(s0, i64)),
      m.i64.store(8, 8, lg(a), lg(s1, i64)),
      m.global.set(capG, m.i32.const(0)),
      ...(result ? [m.return(result)] : []),
    ];
    /** a = dst >= 16 ? 0 : align16(dst + len): 16 bytes that do not overlap the destination buffer. */
    const returnArea = (a: number, dst: number, len: number) =>
      m.local.set(
        a,
        m.select(
          m.i32.ge_u(p(dst), m.i32.const(16)),
          m.i32.const(0),
          m.i32.and(m.i32.add(m.i32.add(p(dst), p(len)), m.i32.const(15)), m.i32.const(-16)),
        ),
      );
    const lend = (dst: number, cap: number) => [m.global.set(dstG, p(dst)), m.global.set(capG, p(cap))];

    const bodies: Record<ImportName, () => { vars: number[]; body: binaryen.ExpressionRef }> = {
      log: () => ({ vars: [], body: m.call(wit("log", [i32, i32], none), [p(0), p(1)], none) }),
      input_len: () => ({ vars: [], body: m.call(wit("input_len", [], i32), [], i32) }),
      // (dst, offset, len) -> n; WIT input-read(offset, len) -> list<u8>, lowered with a return pointer.
      input_read: () => ({
        vars: [i32, i64, i64, i32], // 3 a, 4 s0, 5 s1, 6 n
        body: m.block(null, [
          ...lend(0, 2),
          returnArea(3, 0, 2),
          ...borrow(
            3,
            4,
            5,
            m.call(wit("input_read", [i32, i32, i32], none), [p(1), p(2), p(3)], none),
            [m.local.set(6, m.i32.load(4, 4, p(3)))],
            p(6),
          ),
        ]),
      }),
      // (device, keyPtr, keyLen, dst, cap) -> len | -1; WIT state-get(device, key, cap) -> option<tuple<u32, list<u8>>>.
      state_get: () => ({
        vars: [i32, i64, i64, i32], // 5 a, 6 s0, 7 s1, 8 result
        body: m.block(null, [
          ...lend(3, 4),
          returnArea(5, 3, 4),
          ...borrow(
            5,
            6,
            7,
            m.call(
              wit("state_get", [i32, i32, i32, i32, i32, i32], none),
              [p(0), m.i32.const(32), p(1), p(2), p(4), p(5)],
              none,
            ),
            [m.local.set(8, m.select(m.i32.load8_u(0, 1, p(5)), m.i32.load(4, 4, p(5)), m.i32.const(-1)))],
            p(8),
          ),
        ]),
      }),
      // valLen = -1 deletes: option<list<u8>> is (discriminant, ptr, len).
      state_set: () => {
        const del = () => m.i32.eq(p(4), m.i32.const(-1));
        return {
          vars: [],
          body: m.call(
            wit("state_set", [i32, i32, i32, i32, i32, i32, i32], none),
            [
              p(0),
              m.i32.const(32),
              p(1),
              p(2),
              m.select(del(), m.i32.const(0), m.i32.const(1)),
              p(3),
              m.select(del(), m.i32.const(0), p(4)),
            ],
            none,
          ),
        };
      },
      emit: () => ({ vars: [], body: m.call(wit("emit", [i32, i32], none), [p(0), p(1)], none) }),
      claim: () => ({
        vars: [],
        body: m.call(wit("claim", [i32, i32, i64], none), [p(0), m.i32.const(32), lg(1, i64)], none),
      }),
      random: () => ({ vars: [], body: m.call(wit("random", [], i64), [], i64) }),
      abort: () => ({
        vars: [],
        body: m.block(null, [m.call(wit("abort", [i32, i32], none), [p(0), p(1)], none), m.unreachable()]),
      }),
    };

    // Replace every mfi.* import by a defined function of the same internal name, so call sites stay as they are.
    const imported: { name: string; base: ImportName }[] = [];
    for (let i = 0; i < m.getNumFunctions(); i++) {
      const fi = binaryen.getFunctionInfo(m.getFunctionByIndex(i));
      if (fi.module === IMPORT_MODULE) imported.push({ name: fi.name, base: fi.base as ImportName });
    }
    for (const { name, base } of imported) {
      const spec = IMPORTS[base];
      const { vars, body } = bodies[base]();
      m.removeFunction(name);
      const ty = (ts: readonly string[]) => binaryen.createType(ts.map((t) => (t === "i64" ? i64 : i32)));
      m.addFunction(name, ty(spec.params), spec.results.length ? ty(spec.results) : none, vars, body);
    }

    m.addFunction(
      "cabi_realloc",
      binaryen.createType([i32, i32, i32, i32]),
      i32,
      [],
      m.block(null, [
        // Only host-returned lists are allocated, each into the destination the guest lent for that call.
        m.if(m.i32.gt_u(p(3), m.global.get(capG, i32)), m.unreachable()),
        m.global.set(capG, m.i32.const(0)),
        m.return(m.global.get(dstG, i32)),
      ]),
    );

    const exportsOf = new Map<string, string>();
    for (let i = 0; i < m.getNumExports(); i++) {
      const e = binaryen.getExportInfo(m.getExportByIndex(i));
      exportsOf.set(e.name, e.value);
    }
    const entry = exportsOf.get(ENTRY_EXPORT)!;
    const init = info.hasInit ? exportsOf.get(INIT_EXPORT) : undefined;
    for (const name of exportsOf.keys()) if (name !== MEMORY_EXPORT) m.removeExport(name);
    m.addFunction(
      "__mfi_run",
      none,
      none,
      [],
      m.block(null, [...(init ? [m.call(init, [], none)] : []), m.call(entry, [], none)]),
    );
    m.addFunctionExport("__mfi_run", RUN_EXPORT);
    m.addFunctionExport("cabi_realloc", "cabi_realloc");
    if (!m.validate())
      throw new ComponentError("the adapted core module did not validate (a bug in toolchain/component.ts)");
    return m.emitBinary();
  } finally {
    m.dispose();
  }
}

/** The applet as a component: adapted core module + the world of toolchain/wit/applet.wit, made by jco. */
export async function componentize(opts: { wasm: Uint8Array }): Promise<Uint8Array> {
  const core = adaptCoreModule(opts.wasm);
  const { componentEmbed, componentNew } = await import("@bytecodealliance/jco");
  try {
    const embedded = await componentEmbed({
      binary: core,
      witSource: readFileSync(WIT_PATH, "utf8"),
      world: WIT_WORLD,
    });
    return await componentNew(embedded);
  } catch (err) {
    throw new ComponentError("jco could not make a component of the adapted applet", {
      cause: err,
      details: String((err as Error)?.message ?? err),
    });
  }
}
