/**
 * An applet's identity: sha256 of its Wasm bytes, written `0x` + 64 lowercase hex digits. One parser for every layer,
 * so an imageId given with or without `0x`, in any case, or as 32 bytes means the same applet everywhere.
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

/** The canonical ImageId of a hex string (with or without 0x, any case) or 32 bytes; InvalidImageIdError otherwise. */
export function parseImageId(input: string | Uint8Array): ImageId {
  const hex =
    typeof input === "string"
      ? input.replace(/^0x/i, "").toLowerCase()
      : input.length === 32
        ? Array.from(input, (b) => b.toString(16).padStart(2, "0")).join("")
        : "";
  if (!HEX64.test(hex)) throw new InvalidImageIdError(typeof input === "string" ? input : `${input.length} bytes`);
  return `0x${hex}`;
}

/** True for an ImageId in canonical form (0x + 64 lowercase hex digits). */
export function isImageId(x: unknown): x is ImageId {
  return typeof x === "string" && x.startsWith("0x") && HEX64.test(x.slice(2));
}

export function imageIdToBigInt(id: ImageId): bigint {
  return BigInt(id);
}
