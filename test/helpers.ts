/** Shared helpers for end-to-end tests. */
import wabtInit from "wabt";

export async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs: number, pollMs = 100): Promise<void> {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/** The claim each tier-1 reducer makes over values[0] of an epoch's readings, computed without the applet. */
export function expectedOutput(reducer: string, param: bigint | undefined, values: bigint[]): bigint {
  if (reducer === "sum") return values.reduce((a, v) => a + v, 0n);
  if (reducer === "count_above") return BigInt(values.filter((v) => v > param!).length);
  if (reducer === "max") return values.reduce((a, v) => (v > a ? v : a), 0n);
  throw new Error(`unknown reducer ${reducer}`);
}

let trap: Uint8Array | undefined;
const wabt = await wabtInit();
/** A valid applet that loops forever: it must end in Trap.OutOfFuel. */
export function trapAppletWasm(): Uint8Array {
  if (trap) return trap;
  const m = wabt.parseWat("trap.wat", `(module (memory (export "memory") 1 1) (func (export "mfi_main") (loop $l (br $l))))`);
  trap = new Uint8Array(m.toBinary({}).buffer);
  return trap;
}

import { execFile } from "node:child_process";
import { join } from "node:path";

/** The real `mfi` binary. */
export const mfiBin = join(import.meta.dirname, "..", "cli", "bin.mjs");

/** Run `mfi …` to completion; never throws on a non-zero exit. */
export function mfi(args: string[], o: { cwd?: string; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [mfiBin, ...args], { cwd: o.cwd, env: { ...process.env, ...o.env }, maxBuffer: 1 << 24, timeout: o.timeoutMs ?? 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof (err as { code?: unknown }).code === "number" ? (err as { code: number }).code : 1) : 0, stdout, stderr });
    });
  });
}
