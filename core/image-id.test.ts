import { describe, expect, it } from "vitest";
import { imageIdHex, imageIdToBigInt, InvalidImageIdError, isImageId, parseImageId } from "./image-id.ts";

const HEX = "ab".repeat(31) + "0f";

describe("parseImageId", () => {
  it("normalises every spelling of one imageId to 0x + lowercase hex", () => {
    for (const s of [HEX, `0x${HEX}`, `0X${HEX.toUpperCase()}`, HEX.toUpperCase()])
      expect(parseImageId(s)).toBe(`0x${HEX}`);
    expect(parseImageId(Uint8Array.from(Buffer.from(HEX, "hex")))).toBe(`0x${HEX}`);
    expect(isImageId(`0x${HEX}`)).toBe(true);
    expect(isImageId(HEX)).toBe(false);
    expect(imageIdToBigInt(parseImageId(HEX))).toBe(BigInt(`0x${HEX}`));
    expect(parseImageId(BigInt(`0x${HEX}`))).toBe(`0x${HEX}`);
    expect(parseImageId(255n)).toBe(`0x${"0".repeat(62)}ff`);
    expect(imageIdHex(parseImageId(HEX))).toBe(HEX);
  });

  it("refuses anything that is not 32 bytes of hex, with a typed error", () => {
    for (const bad of ["", "0x", HEX.slice(2), HEX + "00", "zz".repeat(32), ` ${HEX}`])
      expect(() => parseImageId(bad)).toThrow(InvalidImageIdError);
    expect(() => parseImageId(new Uint8Array(31))).toThrow(/31 bytes/);
    for (const bad of [-1n, 1n << 256n]) expect(() => parseImageId(bad)).toThrow(InvalidImageIdError);
  });
});
