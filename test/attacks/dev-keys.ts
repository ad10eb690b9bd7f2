/**
 * High (issue 16): the dev verifiers were deployed to any chain. Their keys come from a public seed, so anyone
 * recomputes δ (γ = 1) and forges a proof of any public signals (test/forge.ts): a registration of a device that
 * does not exist, a claim of any output. deployAll / `mfi deploy-contracts` now deploy them only to chain 31337, or
 * with --dev-keys-i-know-they-are-insecure; other chains need a production build and get each zkey's sha256 in the
 * manifest. Real anvil, real generated verifiers.
 */
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Wallet } from "ethers";
import {
  buildContracts,
  startAnvil,
  deployAll,
  createMachinefiClient,
  ContractRevertedError,
  DevVerifiersRefusedError,
  PROD_BUILD_DIR,
  type Anvil,
  type DeploymentManifest,
} from "../../contracts/index.ts";
import { artifactsOf, closeProver } from "../../circuits/index.ts";
import { forgeDevProof } from "../forge.ts";
import { prodLikeKeys } from "../prod-keys.ts";

/** A registration nobody's key signed: the device id is made up. */
async function forgedRegistration(m: DeploymentManifest, owner: string, deviceId: bigint) {
  const p = await forgeDevProof("register", [
    deviceId,
    BigInt(owner),
    BigInt(m.chainId),
    BigInt(m.contracts.DeviceRegistry),
  ]);
  // DeviceRegistry takes b in the Solidity verifier's (c1, c0) order.
  return {
    a: p.a,
    b: [
      [p.b[0][1], p.b[0][0]],
      [p.b[1][1], p.b[1][0]],
    ] as [[bigint, bigint], [bigint, bigint]],
    c: p.c,
  };
}

async function registerForged(anvil: Anvil, m: DeploymentManifest, deviceId: bigint) {
  const client = createMachinefiClient({ rpcUrl: anvil.rpcUrl, privateKey: anvil.accounts[1]!, manifest: m });
  try {
    await client.registerDevice({ deviceId, proof: await forgedRegistration(m, client.address, deviceId) });
    return await client.deviceOf(deviceId);
  } finally {
    client.close();
  }
}

describe("attack: the dev verifiers are deployed to any chain", { timeout: 240_000 }, () => {
  let local: Anvil;
  let other: Anvil;
  let prodDir: string;
  beforeAll(async () => {
    buildContracts();
    [local, other] = await Promise.all([startAnvil(), startAnvil({ chainId: 4690 })]);
    prodDir = mkdtempSync(join(tmpdir(), "mfi-prod-register-"));
  }, 240_000);
  afterAll(async () => {
    await Promise.all([local?.stop(), other?.stop()]);
    rmSync(prodDir, { recursive: true, force: true });
    await closeProver();
  });

  it("a FORGED registration proof built from the dev toxic waste is accepted by a dev deployment (why they stay local)", async () => {
    const m = await deployAll({ rpcUrl: local.rpcUrl, privateKey: local.accounts[0]!, manifestDir: false });
    expect(m).toMatchObject({ chainId: 31337, registerVerifier: "generated", verifierKeys: "dev" });
    const deviceId = 0xdead_beefn;
    const owner = new Wallet(local.accounts[1]!).address;
    expect(await registerForged(local, m, deviceId)).toEqual({ owner, active: true });
  });

  it("deploying the dev verifiers to another chain id is refused before any transaction", async () => {
    const deployer = new Wallet(other.accounts[0]!).address;
    const nonce = async () =>
      BigInt(
        (
          await (
            await fetch(other.rpcUrl, {
              method: "POST",
              headers: { "content-type": "application/json" },
              body: JSON.stringify({
                jsonrpc: "2.0",
                id: 1,
                method: "eth_getTransactionCount",
                params: [deployer, "latest"],
              }),
            })
          ).json()
        ).result,
      );
    const before = await nonce();
    // Default: the production build in build/circuits-prod; without one (as on a fresh clone) the deploy is refused.
    if (!existsSync(PROD_BUILD_DIR)) {
      const err = await deployAll({ rpcUrl: other.rpcUrl, privateKey: other.accounts[0]!, manifestDir: false }).catch(
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(DevVerifiersRefusedError);
      expect((err as DevVerifiersRefusedError).shortMessage).toMatch(
        /refusing to deploy the dev verifiers to chain 4690/,
      );
      expect((err as DevVerifiersRefusedError).message).toContain("--dev-keys-i-know-they-are-insecure");
    }
    await expect(
      deployAll({
        rpcUrl: other.rpcUrl,
        privateKey: other.accounts[0]!,
        manifestDir: false,
        productionKeys: join(prodDir, "missing"),
      }),
    ).rejects.toBeInstanceOf(DevVerifiersRefusedError);
    expect(await nonce()).toBe(before);
  });

  it("a production deployment records each zkey's sha256 and refuses the dev-key forgery", async () => {
    await prodLikeKeys("register", prodDir);
    const m = await deployAll({
      rpcUrl: other.rpcUrl,
      privateKey: other.accounts[0]!,
      manifestDir: false,
      productionKeys: prodDir,
    });
    expect(m.verifierKeys).toBe("production");
    expect(m.zkeys).toEqual({
      register: createHash("sha256")
        .update(readFileSync(artifactsOf("register", prodDir).zkey))
        .digest("hex"),
    });
    expect(m.registerVerifier).toBe("generated");
    await expect(registerForged(other, m, 0xdead_beefn)).rejects.toSatisfy(
      (e: unknown) => e instanceof ContractRevertedError && e.errorName === "DeviceRegistry__InvalidProof",
    );
  });

  it("--dev-keys-i-know-they-are-insecure deploys them anyway, and the forgery then works there too", async () => {
    const m = await deployAll({
      rpcUrl: other.rpcUrl,
      privateKey: other.accounts[0]!,
      manifestDir: false,
      devKeysIKnowTheyAreInsecure: true,
    });
    expect(m).toMatchObject({ chainId: 4690, verifierKeys: "dev" });
    expect(m.zkeys).toBeUndefined();
    expect((await registerForged(other, m, 0xbad_cafen)).active).toBe(true);
  });
});
