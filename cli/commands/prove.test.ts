/** `mfi prove` and `mfi verify` (the command's real action, in-process), with a real readings_sum_16 proof. */
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { runInProcess } from "../run-in-process.ts";
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { register } from "./prove.ts";
import { register as registerVerify } from "./verify.ts";
import { appletFromPath } from "../verify-applet.ts";
import { legacyApplet } from "../../test/legacy-applet.ts";
import { APPLET_BUILD_DIR } from "../../toolchain/index.ts";
import { deviceKey, makeChain, epochPoints, EPOCH } from "../../circuits/fixtures.ts";

const s = (x: unknown) => JSON.stringify(x, (_k, v) => (typeof v === "bigint" ? v.toString() : v));

const mfi = (...args: string[]) => runInProcess([register, registerVerify], args);
// The receipt is for energy-sum (a sum applet): its imageId is the sha256 of the built Wasm.
/** energy-sum with the `reducer: "sum"` its manifest had before compiled applets: receipts of the built-in circuits. */
const ENERGY_SUM = legacyApplet("energy-sum", "sum");
const IMAGE_ID = appletFromPath(ENERGY_SUM).imageId;

let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "mfi-prove-"));
  const key = await deviceKey(3);
  const readings = await makeChain(key, epochPoints([4n, 6n]));
  writeFileSync(join(dir, "readings.json"), s({ readings, publicKey: key.publicKey }));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("mfi prove / mfi verify", () => {
  it("proves, verifies, and rejects a wrong claim, a tampered receipt and a malformed one with their exit codes", async () => {
    const receipt = join(dir, "receipt.json");
    const common = [
      "--readings",
      join(dir, "readings.json"),
      "--epoch-start",
      String(EPOCH.startMs),
      "--epoch-length",
      String(EPOCH.lengthMs),
      "--image-id",
      IMAGE_ID,
    ];
    const bad = await mfi("prove", ...common, "--claim", "11", "--out", receipt);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("ClaimMismatchError");
    const noKey = await mfi(
      "prove",
      ...common.map((a) => (a.endsWith("readings.json") ? join(dir, "missing.json") : a)),
    );
    expect(noKey.code).toBe(1);

    const p = await mfi("prove", ...common, "--claim", "10", "--out", receipt);
    expect(p.stderr).toContain("INSECURE");
    expect(p.code, p.stderr).toBe(0);
    expect(p.stdout).toContain("sum = 10");

    const v = await mfi("verify", receipt, "--applet", ENERGY_SUM, "--calldata");
    expect(v.code, v.stderr).toBe(0);
    expect(v.stdout).toMatch(/^valid/);
    expect(v.stdout).toContain('"proof": "0x');

    const r = JSON.parse(readFileSync(receipt, "utf8"));
    r.claim.output = "11";
    r.publicSignals[3] = "11";
    writeFileSync(join(dir, "tampered.json"), JSON.stringify(r));
    const t = await mfi("verify", join(dir, "tampered.json"), "--applet", ENERGY_SUM);
    expect(t.code).toBe(1);
    expect(t.stdout).toMatch(/^INVALID/);

    writeFileSync(join(dir, "malformed.json"), JSON.stringify({ seal: {} }));
    const m = await mfi("verify", join(dir, "malformed.json"), "--applet", ENERGY_SUM);
    expect(m.code).toBe(2);
    expect(m.stderr).toContain("ReceiptFormatError");
  }, 300_000);
});

describe("mfi prove <applet.wasm> / mfi verify --applet <applet.wasm> (compiled applets)", () => {
  const wasm = (name: string) => join(APPLET_BUILD_DIR, `${name}.wasm`);
  const common = () => [
    "--readings",
    join(dir, "readings.json"),
    "--epoch-start",
    String(EPOCH.startMs),
    "--epoch-length",
    String(EPOCH.lengthMs),
  ];

  it("proves with the applet's own circuit; the receipt verifies against that Wasm only", async () => {
    const receipt = join(dir, "compiled.json");
    const bad = await mfi("prove", wasm("energy-sum"), ...common(), "--claim", "11", "--out", receipt);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("ClaimMismatchError");

    const p = await mfi("prove", wasm("energy-sum"), ...common(), "--claim", "10", "--out", receipt);
    expect(p.code, p.stderr).toBe(0);
    expect(p.stdout).toMatch(/proved energy-sum output = 10 .* with applet_[0-9a-f]{16}_k16/);
    const r = JSON.parse(readFileSync(receipt, "utf8"));
    expect(r.seal.key).toMatch(/^[0-9a-f]{64}$/);
    expect(r.claim.reducer).toBeUndefined();

    const v = await mfi("verify", receipt, "--applet", wasm("energy-sum"));
    expect(v.code, v.stderr).toBe(0);
    expect(v.stdout).toMatch(/^valid: applet_.* claim output = 10 .*recompiled/);

    const other = await mfi("verify", receipt, "--applet", wasm("threshold-alert"));
    expect(other.code).toBe(1);
    expect(other.stdout).toMatch(/^INVALID: the receipt is not for the expected applet/);

    r.claim.output = "11";
    r.publicSignals[3] = "11";
    writeFileSync(join(dir, "compiled-tampered.json"), JSON.stringify(r));
    const t = await mfi("verify", join(dir, "compiled-tampered.json"), "--applet", wasm("energy-sum"));
    expect(t.code).toBe(1);
    expect(t.stdout).toMatch(/^INVALID/);
  }, 300_000);

  it("refuses an applet the compiler cannot express with NotProvableError (exit 2)", async () => {
    const p = await mfi("prove", wasm("uptime-streak"), ...common(), "--out", join(dir, "never.json"));
    expect(p.code).toBe(2);
    expect(p.stderr).toContain("NotProvableError");
    const noWasm = await mfi("prove", join(dir, "readings.json"), ...common());
    expect(noWasm.code).toBe(2);
  }, 120_000);
});
