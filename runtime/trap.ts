/** Why a run stopped early: a closed set. A trap is a deterministic outcome, reported in the run result. */
export const Trap = {
  /** The run used all its fuel. */
  OutOfFuel: "OutOfFuel",
  /** memory.grow asked for more pages than the module's (engine-capped) maximum. */
  MemoryLimit: "MemoryLimit",
  /** A Wasm trap: unreachable, out-of-bounds memory access, division by zero, integer overflow, bad indirect call. */
  Unreachable: "Unreachable",
  /** The call depth went over STACK_BUDGET (unbounded recursion); exact on every host, see docs/fuel.md. */
  StackOverflow: "StackOverflow",
  /** The applet called mfi.abort (an AssemblyScript abort/assert/throw lands here). */
  AppletAbort: "AppletAbort",
  /** The host refused a call: out-of-bounds pointer, journal over its cap, bad argument. */
  HostError: "HostError",
} as const;
export type TrapKind = (typeof Trap)[keyof typeof Trap];

export interface TrapInfo {
  kind: TrapKind;
  message: string;
}

/** Thrown by host functions to stop the run with a trap; caught by Instance.run. */
export class HostTrap extends Error {
  override name = "HostTrap";
  constructor(
    readonly kind: TrapKind,
    message: string,
  ) {
    super(message);
  }
}
