import { describe, expect, it } from "vitest";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, loadConfig } from "./config.ts";

describe("loadConfig", () => {
  it("applies defaults, then file, then environment, then overrides", () => {
    const dir = mkdtempSync(join(tmpdir(), "mfi-cfg-"));
    const file = join(dir, "c.json");
    writeFileSync(file, JSON.stringify({ devices: 3, epochMs: 5000 }));
    const cfg = loadConfig({ file, env: { MFI_DEVICES: "7" }, overrides: { port: 8080 } });
    expect(cfg).toMatchObject({ devices: 7, epochMs: 5000, port: 8080, batchSize: 2 });
  });
  it("names the wrong key and where it came from", () => {
    try {
      loadConfig({ env: { MFI_EPOCH_MS: "fast" } });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).issues[0]).toMatchObject({ key: "epochMs", source: "env MFI_EPOCH_MS" });
      expect((err as Error).message).toMatch(/epochMs \(env MFI_EPOCH_MS\)/);
    }
  });
  it("refuses unknown keys, bad JSON and an rpcUrl without a key", () => {
    const dir = mkdtempSync(join(tmpdir(), "mfi-cfg-"));
    writeFileSync(join(dir, "a.json"), JSON.stringify({ devicez: 1 }));
    writeFileSync(join(dir, "b.json"), "{nope");
    expect(() => loadConfig({ file: join(dir, "a.json"), env: {} })).toThrow(/devicez.*unknown key/);
    expect(() => loadConfig({ file: join(dir, "b.json"), env: {} })).toThrow(/not valid JSON/);
    expect(() => loadConfig({ env: { MFI_RPC_URL: "http://127.0.0.1:8545" } })).toThrow(/privateKey/);
    expect(() => loadConfig({ env: { MFI_PRIVATE_KEY: "0x12" } })).toThrow(/privateKey/);
  });
});
