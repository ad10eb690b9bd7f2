/** The readings file format of `mfi run --readings`: an array of { deviceId, seq, ts, values } with integers as
 *  decimal strings or numbers (deviceId may also be 0x-hex). */
import { z } from "zod";
import { RuntimeInputError } from "../runtime/index.ts";
import type { AppletReading } from "../runtime/index.ts";

const int = z.union([
  z.string().regex(/^(-?[0-9]+|0x[0-9a-fA-F]+)$/, "an integer as a decimal string"),
  z.number().int().refine(Number.isSafeInteger, "a safe integer (use a string above 2^53)"),
]);
const readingSchema = z.object({ deviceId: int, seq: int, ts: int, values: z.array(int).max(4) });
export const readingsFileSchema = z.array(readingSchema);

export function parseReadingsJson(text: string, source = "readings"): AppletReading[] {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new RuntimeInputError(`${source} is not valid JSON`, { cause: err });
  }
  const parsed = readingsFileSchema.safeParse(raw);
  if (!parsed.success) {
    throw new RuntimeInputError(`${source} is not an array of readings`, {
      details: parsed.error.issues
        .slice(0, 5)
        .map((i) => `[${i.path.join(".")}] ${i.message}`)
        .join("; "),
    });
  }
  return parsed.data.map((r) => ({
    deviceId: BigInt(r.deviceId),
    seq: BigInt(r.seq),
    ts: BigInt(r.ts),
    values: r.values.map((v) => BigInt(v)),
  }));
}

/** JSON with bigints as decimal strings and bytes as hex (for `--json` output). */
export function toJsonText(value: unknown): string {
  return JSON.stringify(
    value,
    (_k, v) => (typeof v === "bigint" ? v.toString() : v instanceof Uint8Array ? Buffer.from(v).toString("hex") : v),
    2,
  );
}
