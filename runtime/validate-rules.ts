/**
 * The rules of validation (docs/abi.md#validation) that section readers share: value types, limits, constant
 * expressions and the instruction scan of function bodies. Every refusal is a ValidationError with its code.
 */
import { ValidationError, type ValidationErrorInfo } from "./errors.ts";
import { Reader, VALTYPE_NAMES, atomicOpName, fcOpName, floatOpName } from "./wasm-reader.ts";

/** Export names the metering pass adds (fuel.ts FUEL_GLOBAL, TRAP_GLOBAL, RESET_EXPORT) start with this. */
export const RESERVED_PREFIX = "__mfi";

export interface FuncType {
  params: number[];
  results: number[];
}

export const fail = (msg: string, info: ValidationErrorInfo, details?: string): never => {
  throw new ValidationError(msg, info, { details });
};

export function checkValType(t: number, info: Omit<ValidationErrorInfo, "code">, where: string): void {
  if (t === 0x7d || t === 0x7c)
    fail(`${where} uses the float type ${VALTYPE_NAMES[t]}`, { code: "FloatType", opcode: VALTYPE_NAMES[t], ...info });
  if (t === 0x7b) fail(`${where} uses the SIMD type v128`, { code: "SimdInstruction", opcode: "v128", ...info });
  if (t !== 0x7f && t !== 0x7e)
    fail(`${where} uses the unsupported type ${VALTYPE_NAMES[t] ?? "0x" + t.toString(16)}`, {
      code: "UnsupportedInstruction",
      ...info,
    });
}

export function readLimits(s: Reader): void {
  const flags = s.u8();
  s.u32();
  if (flags & 1) s.u32();
}

export function constI32(s: Reader): number {
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

export function checkConstExpr(s: Reader): void {
  for (;;) {
    const op = s.u8();
    if (op === 0x0b) return;
    if (op === 0x41 || op === 0x42) s.sleb();
    else if (op === 0x23 || op === 0xd2) s.u32();
    else if (op === 0x43 || op === 0x44)
      fail(`a global initializer uses ${floatOpName(op)}`, {
        code: "FloatInstruction",
        opcode: floatOpName(op),
        offset: s.pos,
      });
    else
      fail(`unsupported constant expression opcode 0x${op.toString(16)}`, {
        code: "UnsupportedInstruction",
        offset: s.pos,
      });
  }
}

type Reject = (code: ValidationErrorInfo["code"], opcode: string, why: string) => never;

/** Opcodes refused by name (the rest of what is not integer core Wasm is named by its number). */
const UNSUPPORTED_OPS: Record<number, string> = {
  0x06: "try",
  0x08: "throw",
  0x12: "return_call",
  0x13: "return_call_indirect",
  0x1f: "try_table",
  0x25: "table.get",
  0x26: "table.set",
  0xd0: "ref.null",
  0xd1: "ref.is_null",
  0xd2: "ref.func",
  0xfb: "gc op",
};

/** Walk one function body, rejecting the first forbidden instruction with its name and the function index. */
export function checkCode(s: Reader, functionIndex: number): void {
  for (let n = s.u32(), i = 0; i < n; i++) {
    s.u32();
    checkValType(s.u8(), { functionIndex, offset: s.pos }, `a local of function ${functionIndex}`);
  }
  const reject: Reject = (code, opcode, why) =>
    fail(`function ${functionIndex} uses ${opcode}: ${why}`, { code, opcode, functionIndex, offset: s.pos });
  while (!s.done) {
    const op = s.u8();
    const float = floatOpName(op);
    if (float)
      reject(
        "FloatInstruction",
        float,
        "floating point is not deterministic across hosts; use integers or fixed point",
      );
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
      for (let k = s.u32(); k > 0; k--)
        checkValType(s.u8(), { functionIndex, offset: s.pos }, `select in function ${functionIndex}`);
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
    if (
      (op >= 0x45 && op <= 0x5a) ||
      (op >= 0x67 && op <= 0x8a) ||
      op === 0xa7 ||
      op === 0xac ||
      op === 0xad ||
      (op >= 0xc0 && op <= 0xc4)
    )
      continue;
    if (op === 0xd0) {
      s.u8(); // ref.null alone is harmless; what could use it (table ops, ref.is_null) is refused below
      continue;
    }
    if (op === 0xfc) {
      checkMiscOp(s, reject);
      continue;
    }
    if (op === 0xfd)
      reject("SimdInstruction", `simd op ${s.u32()}`, "SIMD is not allowed (build without --enable simd)");
    if (op === 0xfe) reject("AtomicInstruction", atomicOpName(s.u32()), "threads and atomics are not allowed");
    reject(
      "UnsupportedInstruction",
      UNSUPPORTED_OPS[op] ?? `opcode 0x${op.toString(16)}`,
      "only integer core Wasm, sign-extension and bulk memory are supported",
    );
  }
}

/** The 0xfc prefix: bulk memory (memory.init/copy/fill, data.drop) passes; float conversions and table ops do not. */
function checkMiscOp(s: Reader, reject: Reject): void {
  const sub = s.u32();
  if (sub <= 7) reject("FloatInstruction", fcOpName(sub), "floating point is not deterministic across hosts");
  if (sub === 8) {
    s.u32();
    s.u8();
    return;
  }
  if (sub === 9) {
    s.u32();
    return;
  }
  if (sub === 10) {
    s.u8();
    s.u8();
    return;
  }
  if (sub === 11) {
    s.u8();
    return;
  }
  if (sub === 15) reject("TableGrowth", "table.grow", "the function table must not grow");
  reject("UnsupportedInstruction", fcOpName(sub), "table operations other than call_indirect are not supported");
}
