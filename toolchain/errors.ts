/**
 * The toolchain's errors: an applet that does not compile, a folder or manifest that is missing or malformed.
 * They are runtime errors too (RuntimeBaseError), so a CLI that prints a runtime error prints these the same way.
 */
import { RuntimeBaseError } from "../runtime/index.ts";

/** An applet source did not compile with asc. */
export class CompileError extends RuntimeBaseError {
  override name = "CompileError";
}

/** An applet folder or manifest is missing or malformed. */
export class ManifestError extends RuntimeBaseError {
  override name = "ManifestError";
}
