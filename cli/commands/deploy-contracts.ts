/** `mfi deploy-contracts`: compile (cached) and deploy every contract to MFI_RPC_URL, then write the manifest. */
import type { Command } from "commander";
import { loadConfig } from "../config.ts";
import {
  buildContracts,
  deployAll,
  ContractsEnvironmentError,
  DevVerifiersRefusedError,
  DEFAULT_MANIFEST_DIR,
} from "../../contracts/index.ts";

export function register(program: Command): void {
  program
    .command("deploy-contracts")
    .description(
      "deploy DeviceRegistry, AppletRegistry, RewardToken, PayoutVault and the generated verifiers to an EVM chain",
    )
    .option("--rpc-url <url>", "JSON-RPC endpoint (default: MFI_RPC_URL)")
    .option("--config <file>", "configuration file (default: mfi.config.json if present)")
    .option("--manifest-dir <dir>", "where to write <chainId>.json", DEFAULT_MANIFEST_DIR)
    .option(
      "--allow-mock-verifier",
      "register devices with MockVerifier when no generated register verifier exists (test deployments only)",
    )
    .option(
      "--production-keys <dir>",
      "deploy the verifiers of this production build (default off chain 31337: build/circuits-prod)",
    )
    .option(
      "--dev-keys-i-know-they-are-insecure",
      "deploy the dev verifiers (public-seed keys: anyone can forge proofs) to a chain other than 31337",
    )
    .option("--json", "print the manifest as JSON")
    .addHelpText(
      "after",
      "\nThe deployer key comes from MFI_PRIVATE_KEY (never a flag, so it stays out of shell history).\nThe dev verifiers (contracts/generated/) go only to chain 31337: elsewhere build production keys first.\n\nExample (IoTeX testnet, chain id 4690):\n  $ npm run build:circuits -- --ptau powersOfTau28_hez_final_18.ptau   # writes build/circuits-prod/\n  $ MFI_RPC_URL=https://babel-api.testnet.iotex.io MFI_PRIVATE_KEY=0x… mfi deploy-contracts\n\nExit codes: 0 deployed, 1 a deployment transaction failed, 2 bad usage or dev verifiers refused, 3 missing build or unreachable RPC.",
    )
    .action(
      async (opts: {
        rpcUrl?: string;
        config?: string;
        manifestDir: string;
        allowMockVerifier?: boolean;
        productionKeys?: string;
        devKeysIKnowTheyAreInsecure?: boolean;
        json?: boolean;
      }) => {
        let rpcUrl: string | undefined, privateKey: string | undefined;
        try {
          const cfg = loadConfig({ file: opts.config, overrides: { rpcUrl: opts.rpcUrl } });
          ({ rpcUrl, privateKey } = cfg);
        } catch (err) {
          console.error((err as Error).message);
          process.exit(2);
        }
        if (!rpcUrl || !privateKey) {
          console.error(
            "set MFI_RPC_URL and MFI_PRIVATE_KEY (the devnet, `npm start`, deploys to its own anvil by itself)",
          );
          process.exit(2);
        }
        try {
          buildContracts({ log: (m) => console.error(m) });
          const manifest = await deployAll({
            rpcUrl,
            privateKey,
            manifestDir: opts.manifestDir,
            allowMockVerifier: opts.allowMockVerifier,
            productionKeys: opts.productionKeys,
            devKeysIKnowTheyAreInsecure: opts.devKeysIKnowTheyAreInsecure,
            log: (m) => console.error(m),
          });
          if (opts.json) console.log(JSON.stringify(manifest, null, 2));
          else {
            console.log(`deployed to chain ${manifest.chainId} from block ${manifest.block}:`);
            for (const [name, address] of Object.entries(manifest.contracts))
              console.log(`  ${name.padEnd(15)} ${address}`);
            for (const [name, address] of Object.entries(manifest.verifiers))
              console.log(`  ${("verifier " + name).padEnd(15)} ${address}`);
            console.log(
              `verifier keys: ${manifest.verifierKeys}${manifest.zkeys ? ` (zkey sha256 in the manifest)` : ""}`,
            );
            console.log(`manifest: ${opts.manifestDir}/${manifest.chainId}.json`);
          }
        } catch (err) {
          console.error((err as Error).message);
          process.exitCode =
            err instanceof ContractsEnvironmentError ? 3 : err instanceof DevVerifiersRefusedError ? 2 : 1;
        }
      },
    );
}
