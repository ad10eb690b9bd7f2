/**
 * `mfi verify <receipt> --applet <applet.wasm | applet dir>` or `--rpc <url> [--registry <addr>]`: checks a receipt
 * off-chain against the applet it claims for. The applet comes from the caller (its Wasm's sha256 and applet.json) or
 * from AppletRegistry, never from the receipt: a receipt names its own circuit, reducer and threshold, and trusting
 * them accepted a register proof as a claim, a sum proof for a max applet and a count_above proof with its threshold
 * left out (issue 16).
 */
import type { Command } from "commander";
import { readFileSync } from "node:fs";
import {
  BUILD_DIR,
  verifyReceipt,
  closeProver,
  receiptFromJSON,
  toCalldata,
  CircuitsError,
  ReceiptMismatchError,
  InvalidVerifyOptionsError,
  INSECURE_WARNING,
} from "../../circuits/index.ts";
import { appletFromPath, verifyOnChain } from "../verify-applet.ts";
import { exitCodeOf } from "../errors.ts";

const exitFor = exitCodeOf;

export function register(program: Command): void {
  program
    .command("verify <receipt>")
    .description("verify a receipt off-chain against the applet it claims for (--applet or --rpc)")
    .option(
      "--applet <path>",
      "the applet: its built .wasm (its circuit is recompiled from it and must match the receipt's) or its folder; param from its applet.json",
    )
    .option(
      "--rpc <url>",
      "instead: check with the verifier and param AppletRegistry holds for the receipt's imageId and size (as PayoutVault does)",
    )
    .option("--registry <address>", "AppletRegistry address (default: the chain's deployment manifest)")
    .option("--manifest-dir <dir>", "where deployment manifests are (with --rpc)")
    .option(
      "--build-dir <dir>",
      `with --applet, the verification keys: ${BUILD_DIR} (dev, default) or build/circuits-prod (production)`,
    )
    .option("--calldata", "also print the PayoutVault calldata")
    .addHelpText(
      "after",
      `
Example:
  $ mfi verify receipt.json --applet applets/energy-sum
  $ mfi verify receipt.json --rpc http://127.0.0.1:8545 --build-dir build/circuits-prod

Exit codes: 0 valid, 1 invalid proof or a receipt for another applet, 2 malformed receipt or options, 3 circuits not built or RPC unreachable.`,
    )
    .action(
      async (
        file: string,
        o: {
          applet?: string;
          rpc?: string;
          registry?: string;
          manifestDir?: string;
          buildDir?: string;
          calldata?: boolean;
        },
      ) => {
        try {
          if (!o.applet === !o.rpc)
            throw new InvalidVerifyOptionsError(
              "name the applet the receipt must be for: --applet <applet.wasm | dir> or --rpc <url> (not both)",
              {
                details:
                  "the receipt's own imageId, reducer and threshold are what is being checked, so they cannot be the reference",
              },
            );
          const r = receiptFromJSON(readFileSync(file, "utf8"));
          // --rpc asks the verifier AppletRegistry holds for this applet and size, as PayoutVault does; --applet checks
          // against the local keys of the circuit the applet's reducer is proven with.
          const ok = o.applet
            ? await verifyReceipt(r, { applet: appletFromPath(o.applet), buildDir: o.buildDir })
            : (await verifyOnChain({ rpcUrl: o.rpc!, receipt: r, registry: o.registry, manifestDir: o.manifestDir }))
                .ok;
          const by = o.applet
            ? r.seal.key
              ? `its circuit recompiled from ${o.applet}`
              : `keys in ${o.buildDir ?? BUILD_DIR}`
            : `the verifier in AppletRegistry at ${o.rpc}`;
          console.log(
            `${ok ? "valid" : "INVALID"}: ${r.seal.circuit} claim ${r.claim.reducer ?? "output"} = ${r.claim.output} for device ${r.claim.deviceId}, epoch ${r.claim.epoch}, image ${r.claim.imageId} (${by})`,
          );
          // The run that made the claim: `mfi replay` re-executes it and must give this journal digest.
          if (r.journalDigest) console.log(`  from the applet run with journal digest ${r.journalDigest}`);
          if (ok && o.applet && !o.buildDir) console.error(`⚠ ${INSECURE_WARNING}`);
          if (ok && o.calldata)
            console.log(JSON.stringify(toCalldata(r), (_k, v) => (typeof v === "bigint" ? v.toString() : v), 2));
          process.exitCode = ok ? 0 : 1;
        } catch (err) {
          if (err instanceof ReceiptMismatchError) console.log(`INVALID: ${err.shortMessage}`);
          console.error(
            err instanceof CircuitsError ? `${err.name}: ${err.message}` : `error: ${(err as Error).message}`,
          );
          process.exitCode = exitFor(err);
        } finally {
          await closeProver();
        }
      },
    );
}
