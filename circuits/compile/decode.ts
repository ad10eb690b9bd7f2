/** Function bodies as instruction trees (blocks nested), each instruction with its byte offset for errors. */
import { Cursor, type WasmModule } from "./wasm.ts";
import { NotProvableError } from "./errors.ts";

export interface Instr {
  op: string;
  at: number;
  /** Immediates: indices, constants, memarg offset, label depth(s). */
  a?: number;
  b?: number;
  c?: bigint;
  targets?: number[];
  /** Block type: number of results (the validator allows at most one, params none). */
  arity?: number;
  body?: Instr[];
  else?: Instr[];
}

const NUM: Record<number, [string, number, "bin" | "un"]> = {};
const bin32 = [
  "add",
  "sub",
  "mul",
  "div_s",
  "div_u",
  "rem_s",
  "rem_u",
  "and",
  "or",
  "xor",
  "shl",
  "shr_s",
  "shr_u",
  "rotl",
  "rotr",
];
const cmp = ["eq", "ne", "lt_s", "lt_u", "gt_s", "gt_u", "le_s", "le_u", "ge_s", "ge_u"];
NUM[0x45] = ["eqz", 32, "un"];
cmp.forEach((o, i) => (NUM[0x46 + i] = [o, 32, "bin"]));
NUM[0x50] = ["eqz", 64, "un"];
cmp.forEach((o, i) => (NUM[0x51 + i] = [o, 64, "bin"]));
["clz", "ctz", "popcnt"].forEach((o, i) => ((NUM[0x67 + i] = [o, 32, "un"]), (NUM[0x79 + i] = [o, 64, "un"])));
bin32.forEach((o, i) => ((NUM[0x6a + i] = [o, 32, "bin"]), (NUM[0x7c + i] = [o, 64, "bin"])));
NUM[0xa7] = ["wrap", 64, "un"];
NUM[0xac] = ["extend_s", 32, "un"];
NUM[0xad] = ["extend_u", 32, "un"];
NUM[0xc0] = ["extend8_s", 32, "un"];
NUM[0xc1] = ["extend16_s", 32, "un"];
NUM[0xc2] = ["extend8_s", 64, "un"];
NUM[0xc3] = ["extend16_s", 64, "un"];
NUM[0xc4] = ["extend32_s", 64, "un"];
export const NUMERIC = NUM;

/** Loads: [bytes, signed, result width]; stores: [bytes, width]. */
export const LOADS: Record<number, [number, boolean, number]> = {
  0x28: [4, false, 32],
  0x29: [8, false, 64],
  0x2c: [1, true, 32],
  0x2d: [1, false, 32],
  0x2e: [2, true, 32],
  0x2f: [2, false, 32],
  0x30: [1, true, 64],
  0x31: [1, false, 64],
  0x32: [2, true, 64],
  0x33: [2, false, 64],
  0x34: [4, true, 64],
  0x35: [4, false, 64],
};
export const STORES: Record<number, [number, number]> = {
  0x36: [4, 32],
  0x37: [8, 64],
  0x3a: [1, 32],
  0x3b: [2, 32],
  0x3c: [1, 64],
  0x3d: [2, 64],
  0x3e: [4, 64],
};

export function decodeBody(m: WasmModule, fi: number): Instr[] {
  const f = m.funcs[fi]!;
  const c = new Cursor(m.bytes, f.start);
  const refuse = (at: number, op: number) => {
    throw new NotProvableError(`instruction 0x${op.toString(16)} is outside the provable subset`, {
      reason: "UnsupportedInstruction",
      func: f.name,
      offset: at,
      hint: "use integer core Wasm only",
    });
  };
  const blockArity = () => {
    const t = m.bytes[c.pos]!;
    if (t === 0x40) return (c.pos++, 0);
    if (t === 0x7f || t === 0x7e) return (c.pos++, 1);
    refuse(c.pos, t);
    return 0;
  };
  const seq = (): { body: Instr[]; end: string } => {
    const body: Instr[] = [];
    for (;;) {
      const at = c.pos;
      const op = c.u8();
      if (op === 0x0b) return { body, end: "end" };
      if (op === 0x05) return { body, end: "else" };
      if (op === 0x02 || op === 0x03) {
        const arity = blockArity();
        body.push({ op: op === 0x02 ? "block" : "loop", at, arity, body: seq().body });
      } else if (op === 0x04) {
        const arity = blockArity();
        const then = seq();
        body.push({ op: "if", at, arity, body: then.body, else: then.end === "else" ? seq().body : [] });
      } else if (op === 0x0c || op === 0x0d) body.push({ op: op === 0x0c ? "br" : "br_if", at, a: c.u32() });
      else if (op === 0x0e) {
        const targets = Array.from({ length: c.u32() }, () => c.u32());
        body.push({ op: "br_table", at, targets, a: c.u32() });
      } else if (op === 0x00) body.push({ op: "unreachable", at });
      else if (op === 0x01) continue;
      else if (op === 0x0f) body.push({ op: "return", at });
      else if (op === 0x10) body.push({ op: "call", at, a: c.u32() });
      else if (op === 0x11) body.push({ op: "call_indirect", at, a: c.u32(), b: c.u32() });
      else if (op === 0x1a) body.push({ op: "drop", at });
      else if (op === 0x1b) body.push({ op: "select", at });
      else if (op >= 0x20 && op <= 0x24)
        body.push({
          op: ["local.get", "local.set", "local.tee", "global.get", "global.set"][op - 0x20]!,
          at,
          a: c.u32(),
        });
      else if (LOADS[op] || STORES[op]) {
        c.u32();
        body.push({ op: LOADS[op] ? "load" : "store", at, a: op, b: c.u32() });
      } else if (op === 0x3f || op === 0x40)
        body.push({ op: op === 0x3f ? "memory.size" : "memory.grow", at, a: c.u8() });
      else if (op === 0x41) body.push({ op: "const", at, a: 32, c: BigInt.asUintN(32, c.sleb(32)) });
      else if (op === 0x42) body.push({ op: "const", at, a: 64, c: BigInt.asUintN(64, c.sleb(64)) });
      else if (NUM[op]) body.push({ op: "num", at, a: op });
      else if (op === 0xfc) {
        const sub = c.u32();
        if (sub === 10) (c.u8(), c.u8(), body.push({ op: "memory.copy", at }));
        else if (sub === 11) (c.u8(), body.push({ op: "memory.fill", at }));
        else refuse(at, 0xfc00 + sub);
      } else refuse(at, op);
    }
  };
  return seq().body;
}
