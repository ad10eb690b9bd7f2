import { describe, expect, it } from "vitest";
import { BaseError } from "./errors.ts";

class Outer extends BaseError {
  override name = "Outer";
}
class Inner extends BaseError {
  override name = "Inner";
}

describe("BaseError", () => {
  it("builds its message from the short message, what to do, details and docs", () => {
    const e = new Outer("it broke", { metaMessages: ["try again"], details: "disk full", docsPath: "docs/x.md" });
    expect(e.message).toBe("it broke\ntry again\nDetails: disk full\nDocs: docs/x.md");
    expect(e.toJSON()).toMatchObject({ name: "Outer", shortMessage: "it broke", details: "disk full" });
  });

  it("walk() finds an error in the cause chain, or the deepest cause", () => {
    const root = new TypeError("root");
    const inner = new Inner("inner", { cause: root });
    const outer = new Outer("outer", { cause: inner });
    expect(outer.walk((e) => e instanceof Inner)).toBe(inner);
    expect(outer.walk((e) => e instanceof Outer)).toBe(outer);
    expect(outer.walk((e) => e instanceof RangeError)).toBeNull();
    expect(outer.walk()).toBe(root);
    expect(new Outer("alone").walk()).toBeInstanceOf(Outer);
  });

  it("walk() ends on a cause cycle", () => {
    const a = new Outer("a");
    const b = new Inner("b", { cause: a });
    Object.defineProperty(a, "cause", { value: b });
    expect(a.walk((e) => e instanceof RangeError)).toBeNull();
  });
});
