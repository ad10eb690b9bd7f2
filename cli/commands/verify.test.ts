/** `mfi verify` against an expected applet (--applet, --rpc), with real proofs, real keys and a real anvil. */
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { mkdtempSync, writeFileSync, readFileSync, rmSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runInProcess } from "../run-in-process.ts";
import { register } from "./verify.ts";
import { appletFromPath } from "../verify-applet.ts";
import { legacyApplet } from "../../test/legacy-applet.ts";
import { APPLETS_DIR } from "../../toolchain/index.ts";
import { proveClaim, receiptToJSON, closeProver } from "../../circuits/index.ts";
import { buildContracts, startAnvil, deployAll, createMachinefiClient, type Anvil } from "../../contracts/index.ts";
import { deviceKey, makeChain, epochPoints, EPOCH } from "../../circuits/fixtures.ts";
import { prodLikeKeys } from "../../test/prod-keys.ts";

const mfi = (...args: string[]) => runInProcess([register], args);
/** energy-sum with the `reducer: "sum"` its manifest had before compiled applets: receipts of the built-in circuits. */
const ENERGY_SUM = legacyApplet("energy-sum", "sum");
const THRESHOLD_ALERT = join(APPLETS_DIR, "threshold-alert");
const MAX_APPLET = "0x" + "3a".repeat(32);

let dir: string;
let receipt: string;
let sumAsMax: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "mfi-verify-"));
  const key = await deviceKey(7);
  const readings = await makeChain(key, epochPoints([4n, 6n]));
  const common = { readings, devicePublicKey: key.publicKey, epoch: EPOCH, reducer: "sum" as const, claim: 10n };
  receipt = join(dir, "receipt.json");
  writeFileSync(receipt, receiptToJSON(await proveClaim({ ...common, imageId: appletFromPath(ENERGY_SUM).imageId })));
  sumAsMax = join(dir, "sum-as-max.json");
  writeFileSync(sumAsMax, receiptToJSON(await proveClaim({ ...common, imageId: MAX_APPLET })));
}, 240_000);
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await closeProver();
});

describe("mfi verify --applet", () => {
  it("refuses to verify without an expected applet (exit 2): the receipt cannot vouch for itself", async () => {
    const r = await mfi("verify", receipt);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("InvalidVerifyOptionsError");
    expect((await mfi("verify", receipt, "--applet", join(dir, "nope"))).code).toBe(2);
    expect((await mfi("verify", receipt, "--applet", dir)).code).toBe(2); // a folder without applet.json
  });

  it("accepts the receipt for its applet given as a folder or as the built .wasm", async () => {
    for (const applet of [ENERGY_SUM, join(ENERGY_SUM, "energy-sum.wasm")]) {
      const r = await mfi("verify", receipt, "--applet", applet);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^valid/);
    }
  }, 60_000);

  it("prints the journal digest of the applet run a worker's receipt comes from, and none for mfi prove's", async () => {
    expect((await mfi("verify", receipt, "--applet", ENERGY_SUM)).stdout).not.toContain("journal digest");
    // The digest names the run (mfi replay re-executes it); it is no public signal, so the proof stays valid.
    const fromRun = join(dir, "from-run.json");
    const digest = "5e".repeat(32);
    writeFileSync(fromRun, JSON.stringify({ ...JSON.parse(readFileSync(receipt, "utf8")), journalDigest: digest }));
    const r = await mfi("verify", fromRun, "--applet", ENERGY_SUM);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`from the applet run with journal digest ${digest}`);
  }, 60_000);

  it("refuses a built-in reducer receipt for an applet proven by its own compiled circuit (exit 1)", async () => {
    const r = await mfi("verify", receipt, "--applet", join(APPLETS_DIR, "energy-sum"));
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^INVALID: .*built-in reducer circuit readings_sum_16.*its own compiled circuit/);
  }, 60_000);

  it("refuses the receipt for another applet (exit 1), naming why", async () => {
    const r = await mfi("verify", receipt, "--applet", THRESHOLD_ALERT);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^INVALID: the receipt is not for the expected applet/);
  });

  it("--build-dir selects other keys: missing keys exit 3, production keys reject a dev-key receipt", async () => {
    const empty = join(dir, "empty");
    mkdirSync(empty);
    const missing = await mfi("verify", receipt, "--applet", ENERGY_SUM, "--build-dir", empty);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain("CircuitNotBuiltError");
    const prod = join(dir, "prod");
    await prodLikeKeys("readings_sum_16", prod);
    const r = await mfi("verify", receipt, "--applet", ENERGY_SUM, "--build-dir", prod);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^INVALID/);
  }, 60_000);
});

describe("mfi verify --rpc (AppletRegistry on anvil)", () => {
  let anvil: Anvil;
  let manifestDir: string;
  beforeAll(async () => {
    buildContracts(); // the generated verifiers change with the circuits: deploy what contracts/generated holds now
    anvil = await startAnvil();
    manifestDir = join(dir, "deployments");
    const manifest = await deployAll({ rpcUrl: anvil.rpcUrl, privateKey: anvil.accounts[0]!, manifestDir });
    const client = createMachinefiClient({ rpcUrl: anvil.rpcUrl, privateKey: anvil.accounts[0]!, manifest });
    await client.registerApplet({
      imageId: appletFromPath(ENERGY_SUM).imageId,
      verifier: { reducer: "sum" },
      rewardPerUnit: 1n,
    });
    await client.registerApplet({ imageId: MAX_APPLET, verifier: { reducer: "max" }, rewardPerUnit: 1n });
  }, 120_000);
  afterAll(async () => {
    await anvil?.stop();
  });

  it("accepts a receipt the applet's registered verifier accepts", async () => {
    const r = await mfi("verify", receipt, "--rpc", anvil.rpcUrl, "--manifest-dir", manifestDir);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^valid: .*AppletRegistry/);
  });

  it("rejects a sum proof for an applet registered with max verifiers, and an unknown applet", async () => {
    const r = await mfi("verify", sumAsMax, "--rpc", anvil.rpcUrl, "--manifest-dir", manifestDir);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^INVALID/);
    const other = await mfi("verify", receipt, "--rpc", anvil.rpcUrl, "--registry", "0x" + "99".repeat(20));
    expect(other.code, other.stdout + other.stderr).not.toBe(0);
  });

  it("rejects a proof labelled with the register circuit before asking the chain", async () => {
    const r = JSON.parse(readFileSync(receipt, "utf8"));
    r.seal.circuit = "register";
    writeFileSync(join(dir, "register-label.json"), JSON.stringify(r));
    const v = await mfi(
      "verify",
      join(dir, "register-label.json"),
      "--rpc",
      anvil.rpcUrl,
      "--manifest-dir",
      manifestDir,
    );
    expect(v.code).toBe(1);
    expect(v.stdout).toMatch(/^INVALID: .*not a readings circuit/);
  });

  it("an unreachable RPC exits 3", async () => {
    const r = await mfi("verify", receipt, "--rpc", "http://127.0.0.1:9", "--manifest-dir", manifestDir);
    expect(r.code).toBe(3);
  });
});
