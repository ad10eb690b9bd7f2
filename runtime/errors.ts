/**
 * The runtime's one error family (viem style): a short message, details, what to do, and the cause.
 * Validation errors are thrown (the Wasm is never run); traps are returned in the run result (a trap is an
 * outcome of a run, deterministic and replayable, not a host failure).
 */
import { BaseError, type BaseErrorOptions } from "../core/index.ts";

export type RuntimeErrorOptions = BaseErrorOptions;

export class RuntimeBaseError extends BaseError {
  override name = "RuntimeBaseError";

  /** A plain object for `--json` output and worker messages. */
  override toJSON(): Record<string, unknown> {
    return { name: this.name, shortMessage: this.shortMessage, details: this.details, docsPath: this.docsPath };
  }
}

/** Why a module was refused at load time. One code per rule in docs/abi.md#validation. */
export type ValidationCode =
  | "NotWasm"
  | "InvalidWasm"
  | "FloatInstruction"
  | "FloatType"
  | "SimdInstruction"
  | "AtomicInstruction"
  | "UnsupportedInstruction"
  | "SharedMemory"
  | "MultipleMemories"
  | "MissingMemory"
  | "MissingMemoryMaximum"
  | "MemoryMaximumTooLarge"
  | "Memory64"
  | "ForbiddenImport"
  | "ImportSignatureMismatch"
  | "StartFunction"
  | "TableGrowth"
  | "UnsupportedTable"
  | "MissingExport"
  | "ReservedName"
  | "EntrySignatureMismatch"
  | "DataSegmentOutOfBounds"
  | "UnsupportedSection";

export interface ValidationErrorInfo {
  code: ValidationCode;
  /** The offending instruction (e.g. "f64.add") when the rule is about code. */
  opcode?: string;
  /** The offending import as "module.name". */
  import?: string;
  /** Index of the function (in the module's function index space, imports first) where the problem is. */
  functionIndex?: number;
  /** Byte offset in the module. */
  offset?: number;
}

/** The Wasm bytes are not an applet this runtime will run. Fix the applet (or its asc options) and rebuild. */
export class ValidationError extends RuntimeBaseError {
  override name = "ValidationError";
  readonly code: ValidationCode;
  readonly opcode?: string;
  readonly import?: string;
  readonly functionIndex?: number;
  readonly offset?: number;

  constructor(shortMessage: string, info: ValidationErrorInfo, opts: RuntimeErrorOptions = {}) {
    super(shortMessage, { docsPath: "docs/abi.md#validation", ...opts });
    this.code = info.code;
    this.opcode = info.opcode;
    this.import = info.import;
    this.functionIndex = info.functionIndex;
    this.offset = info.offset;
  }

  override toJSON(): Record<string, unknown> {
    return {
      ...super.toJSON(),
      code: this.code,
      opcode: this.opcode,
      import: this.import,
      functionIndex: this.functionIndex,
      offset: this.offset,
    };
  }
}

/** Bad arguments to the runtime itself (readings that cannot be encoded, a bad config). */
export class RuntimeInputError extends RuntimeBaseError {
  override name = "RuntimeInputError";
}

/** The metering pass met something it cannot meter (validation refuses such modules first: reaching this is a bug). */
export class MeterError extends RuntimeBaseError {
  override name = "MeterError";
}
