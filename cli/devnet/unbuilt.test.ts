/** Issue 22: an applet missing its .wasm is skipped with a warning that says how to build it; the devnet goes on. */
import { describe, expect, it } from "vitest";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { registerApplets } from "./applets.ts";

// Any use of the chain or the worker for the skipped applet fails the test.
const untouchable = new Proxy(
  {},
  { get: (_, k) => (k === "then" ? undefined : () => expect.fail(`used ${String(k)}`)) },
);

describe("registerApplets", () => {
  it("skips an applet whose .wasm is missing, with one warning, touching neither chain nor worker", async () => {
    const lines: string[] = [];
    const out = await registerApplets({
      admin: untouchable as never,
      worker: untouchable as never,
      list: [
        {
          name: "never-built",
          wasmPath: join(tmpdir(), "mfi-no-such-dir", "never-built.wasm"),
          manifest: { name: "never-built", rewardPerUnit: "1" } as never,
        } as never,
      ],
      log: (m) => lines.push(m),
    });
    expect(out).toEqual([]);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /applet never-built skipped: not built .*never-built\.wasm is missing.*mfi build never-built/,
    );
  });
});
