/** `mfi market verify` through the real binary (the chain-backed subcommands run in test/market-e2e.test.ts). */
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { buildJsBackend, encodePublicKey } from "../../device-sdk/index.ts";
import { makeChain, testKey } from "../../gateway/testing.ts";

const run = (args: string[]) =>
  promisify(execFile)(process.execPath, ["cli/bin.mjs", ...args], { cwd: join(import.meta.dirname, "..", "..") });

describe("mfi market verify", () => {
  it("accepts a range that proves itself, refuses a tampered one (1) and an unreadable file (2)", async () => {
    const backend = await buildJsBackend();
    const key = testKey(backend, 21);
    const { wire } = makeChain(backend, key, 3, { signMode: "last" });
    const dir = mkdtempSync(join(tmpdir(), "mfi-market-cli-"));
    const good = join(dir, "good.json");
    const bad = join(dir, "bad.json");
    writeFileSync(
      good,
      JSON.stringify({ deviceId: key.deviceId.toString(), publicKey: encodePublicKey(key.publicKey), readings: wire }),
    );
    writeFileSync(
      bad,
      JSON.stringify({
        deviceId: key.deviceId.toString(),
        publicKey: encodePublicKey(key.publicKey),
        readings: wire.map((r, i) => (i === 2 ? { ...r, ts: String(BigInt(r.ts) + 1n) } : r)),
      }),
    );
    const [ok, tampered, missing] = await Promise.all([
      run(["market", "verify", good, "--json"]),
      run(["market", "verify", bad]).then(
        () => undefined,
        (e: unknown) => e,
      ),
      run(["market", "verify", join(dir, "none.json")]).then(
        () => undefined,
        (e: unknown) => e,
      ),
    ]);
    expect(JSON.parse(ok.stdout)).toMatchObject({ ok: true, verified: 3, fromSeq: "1", toSeq: "3" });
    expect(tampered).toMatchObject({ code: 1, stderr: expect.stringMatching(/Signature of reading 2/) });
    expect(missing).toMatchObject({ code: 2, stderr: expect.stringMatching(/mfi market read/) });
  });
});
