import { describe, expect, it } from "vitest";
import { imageIdHex } from "../core/index.ts";
import { Engine, imageIdOf } from "../runtime/index.ts";
import { wat } from "../runtime/testing.ts";
import { runtimeRunPort } from "./runtime-port.ts";
import { AppletLoadError } from "./errors.ts";

describe("runtimeRunPort", () => {
  it("a module the runtime refuses is the applet's fault: AppletLoadError naming the applet and the reason", async () => {
    const wasm = wat(`(module (memory (export "memory") 1 1)
      (func (export "mfi_main") (drop (f64.add (f64.const 1) (f64.const 2)))))`);
    const imageId = imageIdHex(imageIdOf(wasm));
    const run = runtimeRunPort(new Engine());
    const err = await run({
      applet: { imageId, name: "float-rule", wasm, reducer: "sum", rewardPerUnit: 1n },
      epoch: { startMs: 0n, lengthMs: 1000n },
      readings: [],
      state: undefined,
    } as unknown as Parameters<typeof run>[0]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppletLoadError);
    expect((err as Error).message).toMatch(/f64/);
    expect((err as AppletLoadError).imageId).toBe(imageId);
  });
});
