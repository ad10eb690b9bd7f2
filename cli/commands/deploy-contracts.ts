/** `mfi deploy-contracts`: compile (cached) and deploy every contract to MFI_RPC_URL, then write the manifest. */
import type { Command } from "commander";
import { loadConfig } from "../config.ts";
import { buildContracts, deployAll, ContractsEnvironmentError, DEFAULT_MANIFEST_DIR } from "../../contracts/index.ts";

export function register(program: Command): void {
  program
    .command("deploy-contracts")
    .description("deploy DeviceRegistry, AppletRegistry, RewardToken, PayoutVault and the generated verifiers to an EVM chain")
    .option("--rpc-url <url>", "JSON-RPC endpoint (default: MFI_RPC_URL)")
    .option("--config <file>", "configuration file (default: mfi.config.json if present)")
    .option("--manifest-dir <dir>", "where to write <chainId>.json", DEFAULT_MANIFEST_DIR)
    .option("--allow-mock-verifier", "register devices with MockVerifier when no generated register verifier exists (test deployments only)")
    .option("--json", "print the manifest as JSON")
    .addHelpText(
      "after",
      "\nThe deployer key comes from MFI_PRIVATE_KEY (never a flag, so it stays out of shell history).\n\nExample (IoTeX testnet, chain id 4690):\n  $ MFI_RPC_URL=https://babel-api.testnet.iotex.io MFI_PRIVATE_KEY=0x… mfi deploy-contracts\n\nExit codes: 0 deployed, 1 a deployment transaction failed, 2 bad usage, 3 missing build or unreachable RPC.",
    )
    .action(async (opts: { rpcUrl?: string; config?: string; manifestDir: string; allowMockVerifier?: boolean; json?: boolean }) => {
      let rpcUrl: string | undefined, privateKey: string | undefined;
      try {
        const cfg = loadConfig({ file: opts.config, overrides: { rpcUrl: opts.rpcUrl } });
        ({ rpcUrl, privateKey } = cfg);
      } catch (err) {
        console.error((err as Error).message);
        process.exit(2);
      }
      if (!rpcUrl || !privateKey) {
        console.error("set MFI_RPC_URL and MFI_PRIVATE_KEY (the devnet, `npm start`, deploys to its own anvil by itself)");
        process.exit(2);
      }
      try {
        buildContracts({ log: (m) => console.error(m) });
        const manifest = await deployAll({
          rpcUrl,
          privateKey,
          manifestDir: opts.manifestDir,
          allowMockVerifier: opts.allowMockVerifier,
          log: (m) => console.error(m),
        });
        if (opts.json) console.log(JSON.stringify(manifest, null, 2));
        else {
          console.log(`deployed to chain ${manifest.chainId} from block ${manifest.block}:`);
          for (const [name, address] of Object.entries(manifest.contracts)) console.log(`  ${name.padEnd(15)} ${address}`);
          for (const [name, address] of Object.entries(manifest.verifiers)) console.log(`  ${("verifier " + name).padEnd(15)} ${address}`);
          console.log(`manifest: ${opts.manifestDir}/${manifest.chainId}.json`);
        }
      } catch (err) {
        console.error((err as Error).message);
        process.exitCode = err instanceof ContractsEnvironmentError ? 3 : 1;
      }
    });
}
