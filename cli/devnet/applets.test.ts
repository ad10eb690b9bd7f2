/** The devnet's applet circuits: a verifier source per K for a provable applet, the NotProvableError otherwise. */
import { describe, expect, it } from "vitest";
import { NotProvableError } from "../../circuits/index.ts";
import { loadBuiltApplet } from "../../toolchain/index.ts";
import { compiledVerifiers } from "./applets.ts";

describe("compiledVerifiers", () => {
  it("gives each K's generated verifier for energy-sum", async () => {
    const v = await compiledVerifiers({
      wasm: loadBuiltApplet("energy-sum"),
      hasParam: false,
      sizes: [16],
      log: () => {},
    });
    expect(Array.isArray(v)).toBe(true);
    const [c] = v as Exclude<typeof v, NotProvableError>;
    expect(c!.k).toBe(16);
    expect(c!.name).toMatch(/^applet_[0-9a-f]{16}_k16$/);
    expect(c!.solidity).toContain(`contract Groth16Verifier_${c!.name}`);
  }, 300_000);

  it("compiles uptime-streak with its state (issue 18): each source names its 2 state keys", async () => {
    const v = await compiledVerifiers({ wasm: loadBuiltApplet("uptime-streak"), hasParam: true, log: () => {} });
    expect(Array.isArray(v)).toBe(true);
    expect((v as Exclude<typeof v, NotProvableError>).map((c) => [c.k, c.stateKeys])).toEqual([
      [16, 2],
      [64, 2],
    ]);
  }, 600_000);
});
