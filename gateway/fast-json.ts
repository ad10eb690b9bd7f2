/**
 * Fast path for the common case of a post: a body that is exactly a well-formed reading. A hand-written check that
 * accepts a strict subset of what ReadingSchema (zod) accepts, returning the same value; anything else (even a body
 * zod would accept) answers undefined and goes through zod, which produces the 400 problems. fast-json.test.ts checks
 * the subset property on random bodies.
 */
import { VALUE_SLOTS } from "../device-sdk/index.ts";
import type { WireReadingIn } from "./schemas.ts";

const DIGITS = /^(0|[1-9][0-9]{0,99})$/;
const INT = /^-?(0|[1-9][0-9]{0,99})$/;
const READING_KEYS = new Set(["deviceId", "seq", "ts", "values", "prev", "signature"]);

const isObject = (x: unknown): x is Record<string, unknown> =>
  typeof x === "object" && x !== null && !Array.isArray(x) && Object.getPrototypeOf(x) === Object.prototype;
const digits = (x: unknown) => typeof x === "string" && DIGITS.test(x);
const uintLike = (x: unknown) => digits(x) || (typeof x === "number" && Number.isSafeInteger(x) && x >= 0);
const intLike = (x: unknown) =>
  (typeof x === "string" && INT.test(x)) || (typeof x === "number" && Number.isSafeInteger(x));

function signatureOk(s: unknown): boolean {
  if (s === undefined || s === null) return true;
  if (!isObject(s)) return false;
  let n = 0;
  for (const k in s) {
    if (k !== "R8x" && k !== "R8y" && k !== "S") return false;
    n++;
  }
  return n === 3 && digits(s.R8x) && digits(s.R8y) && digits(s.S);
}

/** The reading if `x` certainly passes ReadingSchema unchanged, else undefined (then ask zod). */
export function fastReading(x: unknown): WireReadingIn | undefined {
  if (!isObject(x)) return undefined;
  for (const k in x) if (!READING_KEYS.has(k)) return undefined;
  const { deviceId, seq, ts, values, prev, signature } = x;
  if (deviceId !== undefined && !digits(deviceId)) return undefined;
  if (!uintLike(seq) || !uintLike(ts) || !digits(prev)) return undefined;
  if (!Array.isArray(values) || values.length > VALUE_SLOTS) return undefined;
  for (const v of values) if (!intLike(v)) return undefined;
  if (!signatureOk(signature)) return undefined;
  return x as WireReadingIn;
}

/**
 * The readings of a batch body `{ readings: [...] }` if every one certainly passes ReadingSchema (so the body passes
 * BatchSchema unchanged), else undefined. Zod costs ~5–20 ms of event loop for 1,000 readings, the fast check under 1:
 * a stranger's forged 1,000-reading batch must cost its few cheap checks, not a validation pass (issue 19).
 */
export function fastBatch(x: unknown): WireReadingIn[] | undefined {
  if (!isObject(x)) return undefined;
  for (const k in x) if (k !== "readings") return undefined;
  const readings = x.readings;
  if (!Array.isArray(readings) || readings.length === 0) return undefined;
  for (const r of readings) if (!fastReading(r)) return undefined;
  return readings as WireReadingIn[];
}

const BATCH_OPENING = '{"readings":[{';

/**
 * The first reading of a batch body, read without parsing the rest: the body must open exactly as JSON.stringify
 * writes a batch (`{"readings":[{`); its first object is cut out at its closing brace (braces inside strings skipped)
 * and parsed alone. undefined when the body opens otherwise or the object does not parse. The batch route refuses a
 * batch whose first reading cannot extend the chain from this alone (routes/readings.ts). A body that repeats the
 * "readings" key may carry other readings than the ones cut out here; it can only get its own request refused.
 */
export function firstBatchReading(text: string): unknown {
  if (!text.startsWith(BATCH_OPENING)) return undefined;
  const start = BATCH_OPENING.length - 1;
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (inString) {
      if (ch === 0x5c)
        i++; // backslash: skip the escaped character
      else if (ch === 0x22) inString = false;
    } else if (ch === 0x22) inString = true;
    else if (ch === 0x7b) depth++;
    else if (ch === 0x7d && --depth === 0) {
      try {
        return JSON.parse(text.slice(start, i + 1));
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}
