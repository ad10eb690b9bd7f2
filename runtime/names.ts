/**
 * Source names for refusals: asc writes the function names of the source into the Wasm name section, so a refusal
 * says "function 11 (assembly/index/payout)" instead of a bare index, and says what to write instead.
 */
import { ValidationError } from "./errors.ts";
import { Reader } from "./wasm-reader.ts";

/** Function index → name, from the custom "name" section (subsection 1); empty when there is none or it is broken. */
export function functionNames(bytes: Uint8Array): Map<number, string> {
  const names = new Map<number, string>();
  try {
    for (const r = new Reader(bytes, 8); !r.done;) {
      const id = r.u8();
      const size = r.u32();
      const end = r.pos + size;
      if (id === 0) {
        const s = new Reader(bytes, r.pos, end);
        if (s.name() === "name") {
          while (!s.done) {
            const sub = s.u8();
            const subSize = s.u32();
            const subEnd = s.pos + subSize;
            if (sub === 1) for (let n = s.u32(), i = 0; i < n; i++) names.set(s.u32(), s.name());
            s.pos = subEnd;
          }
        }
      }
      r.pos = end;
    }
  } catch {
    // a broken name section only loses the names; validation reports the module itself
  }
  return names;
}

const FLOAT_ADVICE = "use integers or fixed point (see the SDK's fixed helpers, applets/sdk/assembly/fixed.ts)";

/**
 * Function index → name from the text format of the same module (asc's --textFile: a release build strips the name
 * section from the binary, not from the text). Imported functions come first, as in the index space.
 */
export function functionNamesFromText(wat: string): Map<number, string> {
  const names = new Map<number, string>();
  let i = 0;
  for (const line of wat.split("\n")) {
    const m = /^\s*\((?:import "[^"]*" "[^"]*" \()?func \$(\S+)/.exec(line);
    if (m) names.set(i++, m[1]!);
  }
  return names;
}

/**
 * The same refusal, naming the source function (from `names`, else the module's name section) and saying what to
 * change (floats); other errors pass through.
 */
export function withSourceNames(err: unknown, bytes: Uint8Array, names?: Map<number, string>): unknown {
  if (!(err instanceof ValidationError) || err.functionIndex === undefined) return err;
  if (err.code !== "FloatType" && err.code !== "FloatInstruction") return err;
  const name = (names ?? functionNames(bytes)).get(err.functionIndex);
  const short = name ? err.shortMessage.replace(/function (\d+)/, (m) => `${m} (${name})`) : err.shortMessage;
  return new ValidationError(
    short,
    { code: err.code, opcode: err.opcode, functionIndex: err.functionIndex, offset: err.offset },
    {
      details: err.details,
      metaMessages: [
        /fixed point/.test(short) ? "see the SDK's fixed helpers (applets/sdk/assembly/fixed.ts)" : FLOAT_ADVICE,
      ],
    },
  );
}

/** How many functions the module has, imported and defined (the original index space). */
export function functionCount(bytes: Uint8Array): number {
  let count = 0;
  try {
    for (const r = new Reader(bytes, 8); !r.done;) {
      const id = r.u8();
      const size = r.u32();
      const end = r.pos + size;
      const s = new Reader(bytes, r.pos, end);
      if (id === 2)
        for (let n = s.u32(), i = 0; i < n; i++) {
          s.name();
          s.name();
          const kind = s.u8();
          if (kind === 0) {
            count++;
            s.u32();
          } else break; // applets import functions only (validated)
        }
      if (id === 3) count += s.u32();
      r.pos = end;
    }
  } catch {
    // validated modules parse; anything else just has no count
  }
  return count;
}

/**
 * " in function 11 (payout)": the applet's own function on top of the Wasm stack when a trap was thrown. The
 * metering pass appends its helpers after the applet's functions, whose indices it keeps, so the first frame below
 * the applet's function count is the applet's function that was running.
 */
export function runningFunction(err: unknown, original: Uint8Array): string {
  const stack = (err as Error | undefined)?.stack ?? "";
  const count = functionCount(original);
  for (const m of stack.matchAll(/wasm-function\[(\d+)\]/g)) {
    const i = Number(m[1]);
    if (i >= count) continue;
    const name = functionNames(original).get(i);
    return ` in function ${i}${name ? ` (${name})` : ""}`;
  }
  return "";
}
