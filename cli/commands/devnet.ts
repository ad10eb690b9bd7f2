/** `mfi devnet` (what `npm start` runs): the whole local system in one process. */
import type { Command } from "commander";
import { runDevnetCli } from "../devnet/main.ts";

export function register(program: Command): void {
  program
    .command("devnet")
    .description("run the embedded devnet: anvil, contracts, gateway, worker, applets and a simulated device fleet")
    .option("--state <dir>", "keep chain, database and device keys here across restarts")
    .option("--config <file>", "configuration file (JSON; see docs/configuration.md)")
    .option("--devices <n>", "simulated devices")
    .option("--epoch-ms <ms>", "epoch length in milliseconds")
    .option("--port <port>", "gateway port (0 = any free port)")
    .option("--no-simulate", "do not run the simulated fleet")
    .option("--no-build", "skip the build step")
    .option(
      "--mock-proofs",
      "MockVerifier proofs: each claim's circuit witness is checked (what a proof refuses is refused), the Groth16 step skipped",
    )
    .option(
      "--db <postgres>",
      "postgres (embedded) or a postgres:// URL: run the multi-process layout (2 gateways, scheduler, 2 provers, submitter)",
    )
    .option("--batch <n>", "credit one applet (energy-sum) in batch proofs of n devices (issue 26; real proofs only)")
    .addHelpText(
      "after",
      "\nExamples:\n  $ mfi devnet\n  $ mfi devnet --state .mfi/devnet --devices 20 --epoch-ms 30000\n  $ mfi devnet --batch 2\n  $ mfi devnet --db postgres --mock-proofs\n\nEnvironment: MFI_* variables (docs/configuration.md). Exit codes: 0 stopped (Ctrl-C), 1 failed to start or to stop cleanly, 2 bad configuration, 3 build failed, 130 a second Ctrl-C (no waiting).",
    )
    .action((opts) => runDevnetCli(opts));
}
