/** Why the applet compiler refuses a module: typed, so `mfi build`/`deploy`/`prove` can say what to change. */
import { CircuitsError } from "../errors.ts";

/** The closed set of reasons; docs/circuits.md "Compiled applets" lists what each one means. */
export type NotProvableReason =
  | "DataDependentAddress"
  | "DataDependentCall"
  | "DataDependentMemorySize"
  | "UnboundedLoop"
  | "UnsupportedInstruction"
  | "UnsupportedHostCall"
  | "UnsupportedInput"
  | "PartialRead"
  | "MemoryAlias"
  | "ClaimDevice"
  | "NeverClaims"
  | "StatefulApplet"
  | "FuelLimit"
  | "TooLarge";

export interface NotProvableDetail {
  reason: NotProvableReason;
  /** The function (its name from the name section, else `func[i]`) and the byte offset of the instruction. */
  func: string;
  offset: number;
  /** What to change in the applet so that it compiles. */
  hint: string;
}

/** The applet's Wasm cannot be expressed as a circuit (never a wrong circuit: the compiler refuses instead). */
export class NotProvableError extends CircuitsError {
  override name = "NotProvableError";
  readonly reason: NotProvableReason;
  readonly func: string;
  readonly offset: number;
  readonly hint: string;
  constructor(message: string, d: NotProvableDetail) {
    super(`${message} (${d.reason} in ${d.func} at offset 0x${d.offset.toString(16)})`, {
      metaMessages: [d.hint],
      docsPath: "docs/circuits.md#compiled-applets",
    });
    this.reason = d.reason;
    this.func = d.func;
    this.offset = d.offset;
    this.hint = d.hint;
  }
}

/** A Wasm module the compiler's own reader cannot parse (the runtime validator is the gate; this is a backstop). */
export class CompileInputError extends CircuitsError {
  override name = "CompileInputError";
}

/** A device's stored state has a value under a committed key that is not 8 bytes: the circuit cannot carry it. */
export class StateEncodingError extends CircuitsError {
  override name = "StateEncodingError";
}
