/**
 * An applet's identity: sha256 of its Wasm bytes, written `0x` + 64 lowercase hex digits. One parser for every layer,
 * so an imageId given with or without `0x`, in any case, as 32 bytes or as the uint256 a contract returns means the
 * same applet everywhere.
 */
import { BaseError } from "./errors.ts";

export type ImageId = `0x${string}`;

export class InvalidImageIdError extends BaseError {
  override name = "InvalidImageIdError";
  readonly input: string;

  constructor(input: string) {
    super(`imageId must be 32 bytes of hex (sha256 of the applet's Wasm), got ${JSON.stringify(input.slice(0, 80))}`);
    this.input = input;
  }
}

const HEX64 = /^[0-9a-f]{64}$/;
const MAX = (1n << 256n) - 1n;

/**
 * The canonical ImageId of a hex string (with or without 0x, any case), 32 bytes, or a uint256 (bytes32 read as a
 * number); InvalidImageIdError otherwise.
 */
export function parseImageId(input: string | bigint | Uint8Array): ImageId {
  let hex = "";
  if (typeof input === "string") hex = input.replace(/^0x/i, "").toLowerCase();
  else if (typeof input === "bigint") hex = input >= 0n && input <= MAX ? input.toString(16).padStart(64, "0") : "";
  else if (input.length === 32) hex = Array.from(input, (b) => b.toString(16).padStart(2, "0")).join("");
  if (!HEX64.test(hex))
    throw new InvalidImageIdError(
      typeof input === "string" ? input : typeof input === "bigint" ? `${input}` : `${input.length} bytes`,
    );
  return `0x${hex}`;
}

/** True for an ImageId in canonical form (0x + 64 lowercase hex digits). */
export function isImageId(x: unknown): x is ImageId {
  return typeof x === "string" && x.startsWith("0x") && HEX64.test(x.slice(2));
}

export function imageIdToBigInt(id: ImageId): bigint {
  return BigInt(id);
}

/**
 * The 64 hex digits without `0x`: the form the runtime (Module.imageId, a run's result), the worker's stored runs and
 * the CLI's build output name an applet by, kept so stored databases and printed output stay as they were.
 */
export function imageIdHex(id: ImageId): string {
  return id.slice(2);
}
