/**
 * The parts of a core Wasm module the applet compiler executes: types, imports, functions with their bodies (kept as
 * byte ranges so errors can name instruction offsets), globals, memory, table, data and exports. The runtime's
 * validator has already refused floats, SIMD and the rest, so this reader only needs the integer subset.
 */
import { CompileInputError } from "./errors.ts";

export interface FuncType {
  params: number[];
  results: number[];
}
export interface Func {
  index: number;
  name: string;
  type: FuncType;
  /** Locals after the params, as value types. */
  locals: number[];
  /** Body bytes [start, end) in the module, after the local declarations. */
  start: number;
  end: number;
}
export interface Import {
  module: string;
  name: string;
  type: FuncType;
}
export interface Global {
  type: number;
  mutable: boolean;
  init: bigint;
}
export interface WasmModule {
  bytes: Uint8Array;
  imports: Import[];
  funcs: Func[];
  globals: Global[];
  memoryPages: number;
  memoryMaxPages: number;
  /** Function indices by table slot (one funcref table, filled by active element segments). */
  table: (number | undefined)[];
  data: { offset: number; bytes: Uint8Array }[];
  exports: Map<string, number>;
}

export class Cursor {
  constructor(
    readonly bytes: Uint8Array,
    public pos: number,
  ) {}
  u8(): number {
    if (this.pos >= this.bytes.length) throw new CompileInputError("the Wasm module is truncated");
    return this.bytes[this.pos++]!;
  }
  u32(): number {
    let r = 0;
    let shift = 0;
    for (;;) {
      const b = this.u8();
      r += (b & 0x7f) * 2 ** shift;
      if (!(b & 0x80)) return r;
      shift += 7;
    }
  }
  /** Signed LEB128 of up to 64 bits, as a bigint. */
  sleb(bits: number): bigint {
    let r = 0n;
    let shift = 0n;
    let b: number;
    do {
      b = this.u8();
      r |= BigInt(b & 0x7f) << shift;
      shift += 7n;
    } while (b & 0x80);
    if (shift < BigInt(bits) + 7n && b & 0x40) r -= 1n << shift;
    return BigInt.asIntN(bits, r);
  }
  name(): string {
    const n = this.u32();
    const s = new TextDecoder().decode(this.bytes.subarray(this.pos, this.pos + n));
    this.pos += n;
    return s;
  }
}

/** A constant expression (i32/i64.const or global.get of an import-free module), then `end`. */
function constExpr(c: Cursor): bigint {
  const op = c.u8();
  let v: bigint;
  if (op === 0x41) v = BigInt.asUintN(32, c.sleb(32));
  else if (op === 0x42) v = BigInt.asUintN(64, c.sleb(64));
  else throw new CompileInputError(`unsupported constant expression opcode 0x${op.toString(16)}`);
  if (c.u8() !== 0x0b) throw new CompileInputError("a constant expression does not end after one instruction");
  return v;
}

export function parseModule(bytes: Uint8Array): WasmModule {
  const c = new Cursor(bytes, 8);
  if (bytes.length < 8 || bytes[0] !== 0 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d)
    throw new CompileInputError("not a Wasm module");
  const types: FuncType[] = [];
  const m: WasmModule = {
    bytes,
    imports: [],
    funcs: [],
    globals: [],
    memoryPages: 0,
    memoryMaxPages: 0,
    table: [],
    data: [],
    exports: new Map(),
  };
  const funcTypes: number[] = [];
  const names = new Map<number, string>();
  while (c.pos < bytes.length) {
    const id = c.u8();
    const size = c.u32();
    const end = c.pos + size;
    if (id === 1) {
      for (let n = c.u32(); n > 0; n--) {
        c.u8(); // 0x60
        const params = Array.from({ length: c.u32() }, () => c.u8());
        const results = Array.from({ length: c.u32() }, () => c.u8());
        types.push({ params, results });
      }
    } else if (id === 2) {
      for (let n = c.u32(); n > 0; n--) {
        const module = c.name();
        const name = c.name();
        const kind = c.u8();
        if (kind !== 0) throw new CompileInputError(`import ${module}.${name} is not a function`);
        m.imports.push({ module, name, type: types[c.u32()]! });
      }
    } else if (id === 3) {
      for (let n = c.u32(); n > 0; n--) funcTypes.push(c.u32());
    } else if (id === 4) {
      c.u32();
      c.u8();
      const flags = c.u8();
      const min = c.u32();
      m.table.length = min;
      if (flags & 1) c.u32();
    } else if (id === 5) {
      c.u32();
      const flags = c.u8();
      m.memoryPages = c.u32();
      m.memoryMaxPages = flags & 1 ? c.u32() : m.memoryPages;
    } else if (id === 6) {
      for (let n = c.u32(); n > 0; n--) {
        const type = c.u8();
        const mutable = c.u8() === 1;
        m.globals.push({ type, mutable, init: constExpr(c) });
      }
    } else if (id === 7) {
      for (let n = c.u32(); n > 0; n--) {
        const name = c.name();
        const kind = c.u8();
        const index = c.u32();
        if (kind === 0) m.exports.set(name, index);
      }
    } else if (id === 9) {
      for (let n = c.u32(); n > 0; n--) {
        if (c.u32() !== 0) throw new CompileInputError("only active element segments of table 0 are supported");
        const offset = Number(constExpr(c));
        for (let k = c.u32(), i = 0; i < k; i++) m.table[offset + i] = c.u32();
      }
    } else if (id === 10) {
      for (let n = c.u32(), i = 0; i < n; i++) {
        const bodySize = c.u32();
        const bodyEnd = c.pos + bodySize;
        const locals: number[] = [];
        for (let g = c.u32(); g > 0; g--) {
          const count = c.u32();
          const t = c.u8();
          for (let k = 0; k < count; k++) locals.push(t);
        }
        const index = m.imports.length + i;
        m.funcs.push({
          index,
          name: `func[${index}]`,
          type: types[funcTypes[i]!]!,
          locals,
          start: c.pos,
          end: bodyEnd,
        });
        c.pos = bodyEnd;
      }
    } else if (id === 11) {
      for (let n = c.u32(); n > 0; n--) {
        const flags = c.u32();
        if (flags !== 0) throw new CompileInputError("only active data segments of memory 0 are supported");
        const offset = Number(constExpr(c));
        const len = c.u32();
        m.data.push({ offset, bytes: bytes.subarray(c.pos, c.pos + len) });
        c.pos += len;
      }
    } else if (id === 0) {
      if (c.name() === "name") readFunctionNames(c, end, names);
    }
    c.pos = end;
  }
  for (const f of m.funcs) f.name = names.get(f.index) ?? f.name;
  return m;
}

function readFunctionNames(c: Cursor, end: number, out: Map<number, string>): void {
  while (c.pos < end) {
    const sub = c.u8();
    const size = c.u32();
    const next = c.pos + size;
    if (sub === 1) for (let n = c.u32(); n > 0; n--) out.set(c.u32(), c.name());
    c.pos = next;
  }
}
