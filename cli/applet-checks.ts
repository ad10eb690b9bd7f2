/**
 * Issue 22: `mfi deploy` and `mfi dev` refuse what `mfi validate` / `mfi build` refuse, before anything touches the
 * chain: the runtime's validation (a float, Math.random(), an unknown import → ValidationError naming the source
 * function, exit 2), then provability (NotProvableError, exit 2). Same errors, same exit codes as those commands.
 */
import {
  DEFAULT_ENGINE_CONFIG,
  ValidationError,
  functionNamesFromText,
  validateModule,
  withSourceNames,
} from "../runtime/index.ts";
import { compileApplet } from "../toolchain/index.ts";
import { provability } from "./devnet/applets.ts";

/** Compile the applet at `entry` and validate it as `mfi build` does; throws the same ValidationError. */
export async function compileChecked(entry: string): Promise<Uint8Array> {
  const { wasm } = await compileApplet({ entry });
  try {
    validateModule(wasm, { memoryCapPages: DEFAULT_ENGINE_CONFIG.memoryPages });
  } catch (err) {
    // names the source function, as mfi build does (the text format keeps the names the binary drops)
    if (!(err instanceof ValidationError) || err.functionIndex === undefined) throw err;
    const { text } = await compileApplet({ entry, text: true });
    throw withSourceNames(err, wasm, text ? functionNamesFromText(text) : undefined);
  }
  return wasm;
}

/**
 * Throw the NotProvableError no circuit size escapes (no circom run: the compiler alone decides). Stateful applets are
 * provable: `mfi deploy` and `mfi dev` register them with their state key count (PayoutVault.claimStateful); with
 * mock proofs (`stateful` false) they are not, as a mock proof's witness check has no state input.
 */
export function checkProvable(wasm: Uint8Array, hasParam: boolean, stateful = true): void {
  const err = provability({ wasm, hasParam, stateful });
  if (err) throw err;
}
