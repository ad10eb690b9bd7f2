import { describe, expect, it } from "vitest";
import { CompileError, compileApplet } from "./index.ts";

describe("compileApplet", () => {
  it("a source asc refuses is a CompileError with asc's message", async () => {
    const err = await compileApplet({ source: "export function mfi_main(): void { let x: i32 = notDeclared; }" }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(CompileError);
    expect((err as CompileError).message).toMatch(/notDeclared/);
  }, 60_000);
});
