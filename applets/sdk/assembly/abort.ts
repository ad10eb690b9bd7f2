// asc routes every abort (assert, throw, bounds checks) here through `--use abort=...` in asconfig.json, so the
// module never imports env.abort. toolchain/compile.ts adds this file to every build; it exports nothing.
import { abort } from "./env";

function mfiAbort(message: string | null, fileName: string | null, line: u32, column: u32): void {
  let text = message !== null ? message : "abort";
  if (fileName !== null) text += " at " + fileName + ":" + line.toString() + ":" + column.toString();
  const buf = String.UTF8.encode(text);
  abort(changetype<usize>(buf), buf.byteLength);
  unreachable();
}
