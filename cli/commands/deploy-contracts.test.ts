/** `mfi deploy-contracts` off chain 31337: dev verifiers refused (exit 2) unless opted in; production keys deployed. */
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runInProcess } from "../run-in-process.ts";
import { register } from "./deploy-contracts.ts";
import { startAnvil, PROD_BUILD_DIR, type Anvil } from "../../contracts/index.ts";
import { closeProver } from "../../circuits/index.ts";
import { prodLikeKeys } from "../../test/prod-keys.ts";

const mfi = (...args: string[]) => runInProcess([register], args);

let anvil: Anvil;
let dir: string;
const savedKey = process.env.MFI_PRIVATE_KEY;
beforeAll(async () => {
  anvil = await startAnvil({ chainId: 4690 });
  dir = mkdtempSync(join(tmpdir(), "mfi-deploy-"));
  process.env.MFI_PRIVATE_KEY = anvil.accounts[0]!;
}, 60_000);
afterAll(async () => {
  if (savedKey === undefined) delete process.env.MFI_PRIVATE_KEY;
  else process.env.MFI_PRIVATE_KEY = savedKey;
  await anvil?.stop();
  rmSync(dir, { recursive: true, force: true });
  await closeProver();
});

describe("mfi deploy-contracts on a chain other than 31337", { timeout: 120_000 }, () => {
  it("refuses the dev verifiers with exit 2, naming the opt-in and the production build", async () => {
    const common = ["deploy-contracts", "--rpc-url", anvil.rpcUrl, "--manifest-dir", join(dir, "m1")];
    if (!existsSync(PROD_BUILD_DIR)) {
      const r = await mfi(...common);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/refusing to deploy the dev verifiers to chain 4690/);
      expect(r.stderr).toContain("--dev-keys-i-know-they-are-insecure");
    }
    const missing = await mfi(...common, "--production-keys", join(dir, "missing"));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/no production verifiers/);
    expect(existsSync(join(dir, "m1", "4690.json"))).toBe(false);
  });

  it("deploys them with --dev-keys-i-know-they-are-insecure, warning, and says so in the manifest", async () => {
    const r = await mfi(
      "deploy-contracts",
      "--rpc-url",
      anvil.rpcUrl,
      "--manifest-dir",
      join(dir, "m2"),
      "--dev-keys-i-know-they-are-insecure",
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/WARNING: deploying the INSECURE dev verifiers to chain 4690/);
    expect(JSON.parse(readFileSync(join(dir, "m2", "4690.json"), "utf8"))).toMatchObject({
      chainId: 4690,
      verifierKeys: "dev",
    });
  });

  it("deploys a production build's verifiers with --production-keys and records each zkey's sha256", async () => {
    const prod = join(dir, "prod");
    await prodLikeKeys("register", prod);
    const r = await mfi(
      "deploy-contracts",
      "--rpc-url",
      anvil.rpcUrl,
      "--manifest-dir",
      join(dir, "m3"),
      "--production-keys",
      prod,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("verifier keys: production");
    const m = JSON.parse(readFileSync(join(dir, "m3", "4690.json"), "utf8"));
    expect(m.verifierKeys).toBe("production");
    expect(Object.keys(m.zkeys)).toEqual(["register"]);
    expect(m.zkeys.register).toMatch(/^[0-9a-f]{64}$/);
  });
});
