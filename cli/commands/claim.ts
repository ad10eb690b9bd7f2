/** `mfi claim <receipt.json>`: submit a receipt (made by `mfi prove` or the worker) to the PayoutVault and get paid. */
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { receiptFromJSON, toCalldata } from "../../circuits/index.ts";
import type { MachinefiClient } from "../../contracts/index.ts";
import { chainOptions, connect, type ChainFlags } from "./deploy.ts";

export function register(program: Command): void {
  chainOptions(
    program
      .command("claim <receipt>")
      .description("submit a receipt's proof to the PayoutVault: verifies it on L1 and pays the device's owner"),
  )
    .option("--json", "print the transaction and payout as JSON")
    .addHelpText(
      "after",
      "\nExample:\n  $ mfi claim receipt.json --state .mfi/devnet --rpc http://127.0.0.1:8545 --key 0x59c6…\n\nExit codes: 0 paid, 1 the vault refused it (already claimed, bad proof, paused applet), 2 bad receipt file, 3 chain unreachable or no deployment manifest.",
    )
    .action(async (file: string, opts: ChainFlags & { json?: boolean }) => {
      let receipt;
      try {
        receipt = receiptFromJSON(readFileSync(file, "utf8"));
      } catch (err) {
        console.error(`${file}: ${(err as Error).message} (make one with \`mfi prove\`)`);
        return void (process.exitCode = 2);
      }
      let client: MachinefiClient | undefined;
      try {
        client = await connect(opts);
        const r = await client.claim(toCalldata(receipt));
        const out = { txHash: r.hash, ...r.paid };
        if (opts.json) console.log(JSON.stringify(out, (_, v) => (typeof v === "bigint" ? v.toString() : v), 2));
        else
          console.log(
            `paid: tx ${r.hash}\n${JSON.stringify(r.paid, (_, v) => (typeof v === "bigint" ? v.toString() : v))}`,
          );
      } catch (err) {
        const e = err as Error & { exitCode?: number; shortMessage?: string };
        console.error(e.shortMessage ?? e.message);
        process.exitCode = e.exitCode ?? 1;
      } finally {
        client?.close();
      }
    });
}
