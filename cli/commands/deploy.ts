/** `mfi deploy [dir]`: compile an applet, register its imageId on L1 (verifier for its reducer, reward per unit). */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { SingleBar, Presets } from "cli-progress";
import type { Command } from "commander";
import { JsonRpcProvider } from "ethers";
import { createMachinefiClient, readManifest, type MachinefiClient } from "../../contracts/index.ts";
import { imageIdHex } from "../../core/index.ts";
import { imageIdOf } from "../../runtime/index.ts";
import { compileApplet, loadAppletManifest } from "../../toolchain/index.ts";
import { loadConfig } from "../config.ts";
import { exitCodeOf, UnreachableError, UsageError } from "../errors.ts";
import { appletDir } from "./test.ts";

export interface ChainFlags {
  rpc?: string;
  key?: string;
  deployments?: string;
  state?: string;
}

/** A client for the chain named by flags, else MFI_RPC_URL / MFI_PRIVATE_KEY, with the manifest deployed there. */
export async function connect(flags: ChainFlags): Promise<MachinefiClient> {
  const cfg = loadConfig({
    overrides: { ...(flags.rpc ? { rpcUrl: flags.rpc } : {}), ...(flags.key ? { privateKey: flags.key } : {}) },
  });
  if (!cfg.rpcUrl || !cfg.privateKey)
    throw new UsageError("no chain: pass --rpc <url> --key <0x…> (or set MFI_RPC_URL and MFI_PRIVATE_KEY)");
  const provider = new JsonRpcProvider(cfg.rpcUrl);
  let chainId: bigint;
  try {
    chainId = (await provider.getNetwork()).chainId;
  } catch (err) {
    throw new UnreachableError(`${cfg.rpcUrl}: ${(err as Error).message}`, {
      hint: "is the node or `mfi devnet` running?",
      cause: err,
    });
  } finally {
    provider.destroy();
  }
  const dir = flags.deployments ?? (flags.state ? join(flags.state, "deployments") : undefined);
  const manifest = readManifest(chainId, dir);
  return createMachinefiClient({ rpcUrl: cfg.rpcUrl, privateKey: cfg.privateKey, manifest });
}

export function chainOptions(cmd: Command): Command {
  return cmd
    .option("--rpc <url>", "EVM JSON-RPC URL (default MFI_RPC_URL)")
    .option("--key <hex>", "private key sending the transaction (default MFI_PRIVATE_KEY)")
    .option("--deployments <dir>", "where the deployment manifest <chainId>.json is (default deployments/)")
    .option("--state <dir>", "a devnet state directory (its deployments/ are used)");
}

export function register(program: Command): void {
  chainOptions(
    program
      .command("deploy [dir]")
      .description(
        "compile an applet and register its imageId on L1 with the verifier for its reducer and its reward per unit",
      ),
  )
    .option("--reward <wei>", "reward per output unit (default: applet.json rewardPerUnit)")
    .option("--mock-verifier", "register with the MockVerifier (devnets only: proves nothing)")
    .option("--json", "print the result as JSON")
    .addHelpText(
      "after",
      "\nExample:\n  $ mfi deploy ./my-meter --rpc http://127.0.0.1:8545 --key 0xac09… --state .mfi/devnet\n\nExit codes: 0 registered (or already registered), 1 the transaction failed, 2 bad usage or no applet, 3 chain unreachable or no deployment manifest.",
    )
    .action(
      async (
        target: string | undefined,
        opts: ChainFlags & { reward?: string; mockVerifier?: boolean; json?: boolean },
      ) => {
        const bar =
          opts.json || !process.stderr.isTTY
            ? undefined
            : new SingleBar({ format: "deploy [{bar}] {step}", clearOnComplete: true }, Presets.shades_classic);
        let client: MachinefiClient | undefined;
        try {
          const dir = appletDir(target ?? ".");
          const m = loadAppletManifest(dir);
          bar?.start(3, 0, { step: "compiling" });
          const { wasm } = await compileApplet({ entry: join(dir, "assembly", "index.ts") });
          const imageId = imageIdHex(imageIdOf(wasm));
          mkdirSync(join(dir, "build"), { recursive: true });
          writeFileSync(join(dir, "build", `${m.name}.wasm`), wasm);
          bar?.update(1, { step: "connecting" });
          client = await connect(opts);
          bar?.update(2, { step: "registering on L1" });
          const existing = await client.appletOf(imageId);
          let tx: string | undefined;
          if (existing.owner === "0x0000000000000000000000000000000000000000") {
            const r = await client.registerApplet({
              imageId,
              verifier: opts.mockVerifier ? "mock" : { reducer: m.reducer },
              rewardPerUnit: BigInt(opts.reward ?? m.rewardPerUnit),
              param: m.param === undefined ? undefined : BigInt(m.param),
              epochLengthMs: m.epochLengthMs === undefined ? undefined : BigInt(m.epochLengthMs),
            });
            tx = r.hash;
          }
          bar?.update(3, { step: "done" });
          bar?.stop();
          const out = {
            name: m.name,
            imageId,
            reducer: m.reducer,
            rewardPerUnit: opts.reward ?? m.rewardPerUnit,
            txHash: tx ?? null,
            alreadyRegistered: !tx,
          };
          if (opts.json) console.log(JSON.stringify(out, null, 2));
          else
            console.log(
              tx
                ? `registered ${m.name}: imageId ${imageId} (tx ${tx})`
                : `${m.name} is already registered: imageId ${imageId} (a changed source gets a new imageId)`,
            );
        } catch (err) {
          bar?.stop();
          const e = err as Error & { details?: string };
          if (opts.json) console.log(JSON.stringify({ error: e.message, details: e.details }));
          else console.error(`${e.message}${e.details && !e.message.includes(e.details) ? `\n${e.details}` : ""}`);
          process.exitCode = exitCodeOf(err);
        } finally {
          client?.close();
        }
      },
    );
}
