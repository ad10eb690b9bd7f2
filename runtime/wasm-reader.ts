/** A minimal Wasm binary reader: LEB128, names, limits and the opcode names the validator reports. */
import { ValidationError } from "./errors.ts";

export class Reader {
  pos = 0;
  constructor(
    readonly bytes: Uint8Array,
    start = 0,
    readonly end = bytes.length,
  ) {
    this.pos = start;
  }
  get done(): boolean {
    return this.pos >= this.end;
  }
  u8(): number {
    if (this.pos >= this.end) throw truncated(this.pos);
    return this.bytes[this.pos++]!;
  }
  u32(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = this.u8();
      result += (b & 0x7f) * 2 ** shift;
      if (!(b & 0x80)) break;
      shift += 7;
      if (shift > 35) throw truncated(this.pos);
    }
    return result;
  }
  /** Skip a signed LEB128 of any width (constants' values do not matter to validation). */
  sleb(): void {
    for (let i = 0; i < 10; i++) if (!(this.u8() & 0x80)) return;
    throw truncated(this.pos);
  }
  /** s33 block type: returns the single byte type or -1 for a type index. */
  blockType(): number {
    const b = this.bytes[this.pos];
    if (b === 0x40 || b === 0x7f || b === 0x7e || b === 0x7d || b === 0x7c || b === 0x7b || b === 0x70 || b === 0x6f) {
      this.pos++;
      return b;
    }
    this.sleb();
    return -1;
  }
  skip(n: number): void {
    if (this.pos + n > this.end) throw truncated(this.pos);
    this.pos += n;
  }
  name(): string {
    const n = this.u32();
    const s = new TextDecoder().decode(this.bytes.subarray(this.pos, this.pos + n));
    this.skip(n);
    return s;
  }
}

function truncated(offset: number): ValidationError {
  return new ValidationError("the Wasm module is truncated or malformed", { code: "InvalidWasm", offset });
}

export const VALTYPE_NAMES: Record<number, string> = {
  0x7f: "i32",
  0x7e: "i64",
  0x7d: "f32",
  0x7c: "f64",
  0x7b: "v128",
  0x70: "funcref",
  0x6f: "externref",
};

/** Names of the single-byte float opcodes (0x2a..0xbf range and constants), for error messages. */
const FLOAT_OPS: Record<number, string> = {
  0x2a: "f32.load",
  0x2b: "f64.load",
  0x38: "f32.store",
  0x39: "f64.store",
  0x43: "f32.const",
  0x44: "f64.const",
  0x5b: "f32.eq",
  0x5c: "f32.ne",
  0x5d: "f32.lt",
  0x5e: "f32.gt",
  0x5f: "f32.le",
  0x60: "f32.ge",
  0x61: "f64.eq",
  0x62: "f64.ne",
  0x63: "f64.lt",
  0x64: "f64.gt",
  0x65: "f64.le",
  0x66: "f64.ge",
  0x8b: "f32.abs",
  0x8c: "f32.neg",
  0x8d: "f32.ceil",
  0x8e: "f32.floor",
  0x8f: "f32.trunc",
  0x90: "f32.nearest",
  0x91: "f32.sqrt",
  0x92: "f32.add",
  0x93: "f32.sub",
  0x94: "f32.mul",
  0x95: "f32.div",
  0x96: "f32.min",
  0x97: "f32.max",
  0x98: "f32.copysign",
  0x99: "f64.abs",
  0x9a: "f64.neg",
  0x9b: "f64.ceil",
  0x9c: "f64.floor",
  0x9d: "f64.trunc",
  0x9e: "f64.nearest",
  0x9f: "f64.sqrt",
  0xa0: "f64.add",
  0xa1: "f64.sub",
  0xa2: "f64.mul",
  0xa3: "f64.div",
  0xa4: "f64.min",
  0xa5: "f64.max",
  0xa6: "f64.copysign",
  0xa8: "i32.trunc_f32_s",
  0xa9: "i32.trunc_f32_u",
  0xaa: "i32.trunc_f64_s",
  0xab: "i32.trunc_f64_u",
  0xae: "i64.trunc_f32_s",
  0xaf: "i64.trunc_f32_u",
  0xb0: "i64.trunc_f64_s",
  0xb1: "i64.trunc_f64_u",
  0xb2: "f32.convert_i32_s",
  0xb3: "f32.convert_i32_u",
  0xb4: "f32.convert_i64_s",
  0xb5: "f32.convert_i64_u",
  0xb6: "f32.demote_f64",
  0xb7: "f64.convert_i32_s",
  0xb8: "f64.convert_i32_u",
  0xb9: "f64.convert_i64_s",
  0xba: "f64.convert_i64_u",
  0xbb: "f64.promote_f32",
  0xbc: "i32.reinterpret_f32",
  0xbd: "i64.reinterpret_f64",
  0xbe: "f32.reinterpret_i32",
  0xbf: "f64.reinterpret_i64",
};

export function floatOpName(op: number): string | undefined {
  return FLOAT_OPS[op];
}

const SAT_NAMES = [
  "i32.trunc_sat_f32_s",
  "i32.trunc_sat_f32_u",
  "i32.trunc_sat_f64_s",
  "i32.trunc_sat_f64_u",
  "i64.trunc_sat_f32_s",
  "i64.trunc_sat_f32_u",
  "i64.trunc_sat_f64_s",
  "i64.trunc_sat_f64_u",
];
const FC_NAMES: Record<number, string> = {
  8: "memory.init",
  9: "data.drop",
  10: "memory.copy",
  11: "memory.fill",
  12: "table.init",
  13: "elem.drop",
  14: "table.copy",
  15: "table.grow",
  16: "table.size",
  17: "table.fill",
};

export function fcOpName(sub: number): string {
  return SAT_NAMES[sub] ?? FC_NAMES[sub] ?? `0xfc ${sub}`;
}

const ATOMIC_NAMES: Record<number, string> = {
  0x00: "memory.atomic.notify",
  0x01: "memory.atomic.wait32",
  0x02: "memory.atomic.wait64",
  0x03: "atomic.fence",
};
export function atomicOpName(sub: number): string {
  return (
    ATOMIC_NAMES[sub] ??
    (sub >= 0x10 && sub <= 0x16
      ? "i32/i64.atomic.load"
      : sub >= 0x17 && sub <= 0x1d
        ? "i32/i64.atomic.store"
        : `atomic op 0xfe ${sub}`)
  );
}
