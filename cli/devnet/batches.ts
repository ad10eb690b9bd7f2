/**
 * `mfi devnet --batch <n>` (issue 26): one applet credited in batches of n devices. The devnet deploys a BatchVault
 * (or reuses the one a kept --state recorded), the worker batches the applets switched to it, and once the applets are
 * registered the registrar (the deployer) switches one of them to it and sets its batch verifier, whose circuit is set
 * up in the background on first use (about 1 minute for n = 2, 5 for n = 8 on 2 cores; cached under
 * build/batch-circuits/). Batches proved before the verifier is set wait, proved, and are sent once it is.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { JsonRpcProvider } from "ethers";
import { BATCH_DEPTH, setupBatchCircuit } from "../../circuits/index.ts";
import type { DeploymentManifest } from "../../contracts/index.ts";
import { contractsBatchChainPort } from "../../worker/index.ts";
import type { MachinefiClient } from "../../contracts/index.ts";

const ZERO = "0x0000000000000000000000000000000000000000";

/** The devnet's BatchVault: the one recorded in <dir>/batch-vault.json when it still has code, else a new one. */
export async function devnetBatchVault(o: {
  dir: string;
  rpcUrl: string;
  adminKey: string;
  manifest: DeploymentManifest;
  log: (m: string) => void;
}): Promise<string> {
  const file = join(o.dir, "batch-vault.json");
  if (existsSync(file)) {
    const { address } = JSON.parse(readFileSync(file, "utf8")) as { address: string };
    const provider = new JsonRpcProvider(o.rpcUrl);
    try {
      if ((await provider.getCode(address)) !== "0x") return address;
    } finally {
      provider.destroy();
    }
  }
  // loaded here: contracts/batch.ts pulls circomlibjs in (Poseidon as EVM code), which only this needs
  const { deployBatchVault } = await import("../../contracts/batch.ts");
  const address = await deployBatchVault({
    rpcUrl: o.rpcUrl,
    privateKey: o.adminKey,
    manifest: o.manifest,
    depth: BATCH_DEPTH,
  });
  writeFileSync(file, JSON.stringify({ address }) + "\n");
  o.log(`BatchVault deployed at ${address} (earnings tree depth ${BATCH_DEPTH})`);
  return address;
}

/**
 * Switches `applet` to the vault (unless it already is) and sets its verifier for batches of n in the background.
 * Resolves once the switch is made; `verifier` resolves once batches can be credited.
 */
export async function switchToBatches(o: {
  admin: MachinefiClient;
  rpcUrl: string;
  adminKey: string;
  vault: string;
  applet: { name: string; imageId: string; wasm: Uint8Array; hasParam: boolean };
  n: number;
  log: (m: string) => void;
}): Promise<{ verifier: Promise<void> }> {
  const { batchVaultClient } = await import("../../contracts/batch.ts");
  const client = batchVaultClient({
    rpcUrl: o.rpcUrl,
    privateKey: o.adminKey,
    manifest: o.admin.manifest,
    address: o.vault,
  });
  const imageId = o.applet.imageId.startsWith("0x") ? o.applet.imageId : `0x${o.applet.imageId}`;
  const { vault } = await contractsBatchChainPort(o.admin, o.vault).batchVaultOf(imageId);
  if (vault === ZERO) {
    await client.enableBatches(imageId);
    o.log(`applet ${o.applet.name} switched to batch claims of up to ${o.n} devices (from the epoch running now)`);
  } else if (vault.toLowerCase() !== o.vault.toLowerCase()) {
    client.close();
    o.log(`⚠ applet ${o.applet.name} is batched by another vault (${vault}): this devnet's worker does not batch it`);
    return { verifier: Promise.resolve() };
  }
  const verifier = (async () => {
    try {
      const c = await setupBatchCircuit({
        wasm: o.applet.wasm,
        k: 16,
        n: o.n,
        hasParam: o.applet.hasParam,
        log: (m) => o.log(`  ${m}`),
      });
      await client.setBatchVerifier({
        imageId,
        n: o.n,
        verifier: { name: c.name, solidity: readFileSync(c.solidity, "utf8") },
      });
      o.log(`batch verifier for ${o.applet.name}, N = ${o.n}, set: its batches are credited from now on`);
    } catch (err) {
      // a kept --state: the verifier was set on an earlier run (verifiers never change)
      if (!/BatchVault__BadVerifier/.test((err as Error).message))
        o.log(`⚠ the batch verifier of ${o.applet.name} was not set: ${(err as Error).message}`);
    } finally {
      client.close();
    }
  })();
  return { verifier };
}
