/**
 * `mfi withdraw --applet <imageId> --device <id>`: pays a device's batch-credited earnings (issue 26) to its token's
 * owner. The device's credit in its latest batch is found from the chain alone (BatchCredited events and their
 * calldata), so an owner needs no operator's database; anyone may send it (the tokens go to the owner).
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import { batchVaultClient } from "../../contracts/batch.ts";
import type { MachinefiClient } from "../../contracts/index.ts";
import { parseImageId } from "../../core/index.ts";
import { SNARK_FIELD } from "../../device-sdk/index.ts";
import { CliError, exitCodeOf, UnreachableError, UsageError } from "../errors.ts";
import { ContractRevertedError } from "../../contracts/index.ts";
import { chainConfig, chainOptions, connect, type ChainFlags } from "./deploy.ts";

/** Nothing to pay: no batch credited the device, or everything was withdrawn (exit 1). */
export class NothingToWithdrawError extends CliError {
  override name = "NothingToWithdrawError";
}

type Flags = ChainFlags & { applet: string; device: string; vault?: string; json?: boolean };

function vaultAddress(opts: Flags): string {
  if (opts.vault) {
    if (!/^0x[0-9a-fA-F]{40}$/.test(opts.vault)) throw new UsageError(`--vault ${opts.vault} is not an address`);
    return opts.vault;
  }
  const file = opts.state ? join(opts.state, "batch-vault.json") : undefined;
  if (file && existsSync(file)) {
    let address: unknown;
    try {
      address = (JSON.parse(readFileSync(file, "utf8")) as { address?: unknown }).address;
    } catch (err) {
      throw new UsageError(`${file}: ${(err as Error).message} (pass --vault <address>)`);
    }
    if (typeof address !== "string" || !/^0x[0-9a-fA-F]{40}$/.test(address))
      throw new UsageError(`${file} names no BatchVault address (pass --vault <address>)`);
    return address;
  }
  throw new UsageError(
    "no BatchVault: pass --vault <address> (a devnet with --batch records it in <state>/batch-vault.json)",
  );
}

export function register(program: Command): void {
  chainOptions(
    program.command("withdraw").description("pay a device's batch-credited earnings (BatchVault) to its token's owner"),
  )
    .requiredOption("--applet <imageId>", "the applet's imageId (0x + 64 hex)")
    .requiredOption("--device <id>", "the device key's id (decimal or 0x hex)")
    .option("--vault <address>", "the BatchVault (default: <state>/batch-vault.json)")
    .option("--json", "print the withdrawal as JSON")
    .addHelpText(
      "after",
      "\nThe device's credit in its latest batch is read from the chain (events and calldata): no database needed.\n" +
        "Anyone may send it; the tokens always go to the device token's owner.\n\nExample:\n" +
        "  $ mfi withdraw --state .mfi/devnet --rpc http://127.0.0.1:8545 --key 0x59c6… --applet 0x12ab… --device 4821…\n\n" +
        "Exit codes: 0 paid, 1 nothing to pay or the vault refused it, 2 bad options, 3 chain unreachable or no deployment manifest.",
    )
    .action(async (opts: Flags) => {
      let client: MachinefiClient | undefined;
      let vault: ReturnType<typeof batchVaultClient> | undefined;
      try {
        let deviceId: bigint;
        try {
          if (!/^(0x[0-9a-fA-F]+|\d+)$/.test(opts.device)) throw new Error();
          deviceId = BigInt(opts.device);
        } catch {
          throw new UsageError(`--device ${opts.device} is not a number (decimal or 0x hex)`);
        }
        if (deviceId === 0n || deviceId >= SNARK_FIELD)
          throw new UsageError(`--device ${opts.device} is not a device key id (0 < id < the BN254 field's order)`);
        let imageId: string;
        try {
          imageId = parseImageId(opts.applet);
        } catch (err) {
          throw new UsageError(`--applet: ${(err as Error).message}`);
        }
        const address = vaultAddress(opts);
        // the vault's client signs with the same node and key as the registries': the configuration is read once
        const chain = chainConfig(opts);
        client = await connect(opts, chain);
        vault = batchVaultClient({ ...chain, manifest: client.manifest, address });
        if ((await client.provider.getCode(address).catch(() => "0x")) === "0x")
          throw new UsageError(`--vault ${address}: no contract there on chain ${client.chainId}`);
        // reads: a failure here is the node's (a refused log query, a dropped connection), not the vault's refusal
        const v = vault;
        const [info, credit, done] = await (async () => {
          try {
            // a rotated or revoked key: only credits of epochs inside its window can be withdrawn
            const info = (await client!.contracts.devices.getFunction("claimInfo")(deviceId)) as unknown[];
            const credit = await v.latestCredit(imageId, deviceId, { validUntilMs: info[4] as bigint });
            return [info, credit, await v.withdrawnOf(imageId, deviceId)] as const;
          } catch (err) {
            throw new UnreachableError(`the chain's batches (${(err as Error).message})`, {
              hint: "is the node up, and does it serve eth_getLogs from the vault's deployment block on?",
              cause: err,
            });
          }
        })();
        if (/^0x0{40}$/.test(String(info[1])))
          throw new NothingToWithdrawError(`device ${deviceId} is not registered: no token, no owner to pay`);
        if (!credit)
          throw new NothingToWithdrawError(`no batch of ${imageId} credited device ${deviceId} (vault ${address})`);
        if (credit.cumulative <= done)
          throw new NothingToWithdrawError(
            `device ${deviceId}: all ${credit.cumulative} units credited so far were withdrawn`,
          );
        const r = await vault.withdraw({ imageId, deviceId, credit });
        const out = { owner: r.owner, units: r.units, reward: r.reward, epoch: credit.epoch, gasUsed: r.gasUsed };
        if (opts.json) console.log(JSON.stringify(out, (_, v) => (typeof v === "bigint" ? v.toString() : v), 2));
        else console.log(`paid ${r.reward} (${r.units} units) to ${r.owner}, credited up to epoch ${credit.epoch}`);
      } catch (err) {
        const e = err as Error & { shortMessage?: string };
        console.error(err instanceof ContractRevertedError ? e.message : (e.shortMessage ?? e.message));
        process.exitCode = exitCodeOf(err);
      } finally {
        vault?.close();
        client?.close();
      }
    });
}
