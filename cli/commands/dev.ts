/**
 * `mfi dev [dir]`: the local devnet with one applet under watch. On save the applet is recompiled; its new imageId is
 * registered on L1 and with the worker, and retires the version before it (cli/dev-retire.ts: no new runs at once,
 * paused on L1 once its claims settled; old versions stay registered, so their claims stay verifiable).
 */
import { watchApplet } from "../watch.ts";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import type { WorkerEvent } from "../../worker/index.ts";
import { imageIdHex } from "../../core/index.ts";
import { imageIdOf } from "../../runtime/index.ts";
import { loadAppletManifest } from "../../toolchain/index.ts";
import { loadConfig } from "../config.ts";
import { registerApplets } from "../devnet/applets.ts";
import { startDevnet, type Devnet } from "../devnet/devnet.ts";
import { eventLine } from "../devnet/events.ts";
import { appletDir } from "./test.ts";
import { checkProvable, compileChecked } from "../applet-checks.ts";
import { exitCodeOf } from "../errors.ts";
import { VersionRetirer } from "../dev-retire.ts";

/** Compile dir's applet to dir/build/<name>-<imageId prefix>.wasm and register it (idempotent per imageId). */
export async function buildAndRegister(
  net: Devnet,
  dir: string,
  mock: boolean,
  log: (m: string) => void,
  names?: Map<string, string>,
  retirer?: VersionRetirer,
): Promise<string> {
  const manifest = loadAppletManifest(dir);
  // issue 22: refused as by mfi validate, or not provable: never registered (the previous version keeps running)
  const wasm = await compileChecked(join(dir, "assembly", "index.ts"));
  checkProvable(wasm, manifest.param !== undefined, !mock);
  const imageId = imageIdHex(imageIdOf(wasm));
  const wasmPath = join(dir, "build", `${manifest.name}-${imageId.slice(0, 12)}.wasm`);
  mkdirSync(join(dir, "build"), { recursive: true });
  writeFileSync(wasmPath, wasm);
  const wasRetired = (await retirer?.isRetired(imageId)) ?? false;
  await registerApplets({
    admin: net.admin,
    worker: net.worker,
    list: [{ name: manifest.name, wasmPath, manifest }],
    log,
    mock,
    epochMs: net.epochMs,
  });
  names?.set(imageId, `${manifest.name}@${imageId.slice(0, 8)}`);
  // issue 22: one version is paid for new epochs: the previous ones are retired
  await retirer?.replace(manifest.name, imageId, wasRetired);
  return imageId;
}

export function register(program: Command): void {
  program
    .command("dev [dir]")
    .description(
      "start the devnet with an applet under watch: rebuild and re-register it on L1 and with the worker on every save (the new version replaces the previous one)",
    )
    .option(
      "--mock-proofs",
      "MockVerifier proofs: each claim's circuit witness is checked (what a proof refuses is refused), the Groth16 step skipped",
    )
    .option("--state <dir>", "keep chain, database and keys here between runs")
    .option("--port <n>", "gateway port (0 = any free port)")
    .option("--no-simulate", "do not start the simulated fleet")
    .addHelpText(
      "after",
      "\nEach saved version replaces the one before it: the worker stops running the previous version at once (its\nclaims under way still settle), and it is paused on L1 once they have; saving an earlier version again resumes it.\n\nExample:\n  $ mfi init my-meter && mfi dev my-meter --mock-proofs\n\nExit codes: 0 stopped with Ctrl-C, 2 no applet, refused (ValidationError, as mfi validate) or not provable, checked before the devnet starts, 3 the devnet could not start (see the message).",
    )
    .action(
      async (
        target: string | undefined,
        opts: { mockProofs?: boolean; state?: string; port?: string; simulate: boolean },
      ) => {
        let dir: string;
        try {
          dir = appletDir(target ?? ".");
        } catch (err) {
          console.error((err as Error).message);
          return void (process.exitCode = 2);
        }
        try {
          // issue 22: a refused or unprovable applet stops here, as mfi validate would, before the devnet starts
          const wasm = await compileChecked(join(dir, "assembly", "index.ts"));
          checkProvable(wasm, loadAppletManifest(dir).param !== undefined, !opts.mockProofs);
        } catch (err) {
          const e = err as Error & { details?: string };
          console.error(`${e.message}${e.details && !e.message.includes(e.details) ? `\n${e.details}` : ""}`);
          return void (process.exitCode = exitCodeOf(err));
        }
        const log = (m: string) => console.log(`[dev] ${m}`);
        let net: Devnet;
        let retirer: VersionRetirer;
        const names = new Map<string, string>();
        // The worker's stages, one line each: run → proved (time) → submitted → paid.
        const onEvent = (e: WorkerEvent) => {
          const line = eventLine(e, { names });
          if (line) console.log(`[dev] ${line.trimStart()}`);
        };
        try {
          const config = loadConfig({
            overrides: { ...(opts.state ? { stateDir: opts.state } : {}), ...(opts.port ? { port: opts.port } : {}) },
          });
          net = await startDevnet({
            config,
            log,
            applets: [],
            simulate: opts.simulate,
            mockProofs: opts.mockProofs,
            onEvent,
          });
          retirer = new VersionRetirer(net, log, (id) => names.get(id) ?? id.slice(0, 8));
          await buildAndRegister(net, dir, !!opts.mockProofs, log, names, retirer);
        } catch (err) {
          console.error(
            `${(err as Error).message}${(err as { details?: string }).details ? `\n${(err as { details?: string }).details}` : ""}`,
          );
          return void (process.exitCode = 3);
        }
        log(`dashboard ${net.gatewayUrl}/dashboard · metrics ${net.gatewayUrl}/metrics · rpc ${net.rpcUrl}`);
        log(`watching ${join(dir, "assembly")} and applet.json (Ctrl-C to stop)`);
        let busy = Promise.resolve();
        const rebuild = () => {
          busy = busy.then(async () => {
            try {
              const id = await buildAndRegister(net, dir, !!opts.mockProofs, log, names, retirer);
              log(`rebuilt: imageId ${id.slice(0, 16)}…`);
            } catch (err) {
              log(
                `build failed, keeping the previous version: ${(err as Error).message}\n${(err as { details?: string }).details ?? ""}`,
              );
            }
          });
        };
        // Directory watchers: an editor's safe-write or `sed -i` replaces the file (cli/watch.ts); bursts debounced.
        const watcher = watchApplet(dir, rebuild, { debounceMs: 300 });
        // retired versions are paused on L1 once their claims settled; on the same queue as builds (one sender)
        const pauser = setInterval(
          () => {
            if (retirer.pending.length === 0) return;
            busy = busy.then(() =>
              retirer.pauseSettled().then(
                () => undefined,
                (err: Error) => log(`⚠ pausing a retired version failed (tried again): ${err.message}`),
              ),
            );
          },
          Math.max(1000, net.epochMs),
        );
        await new Promise<void>((resolve) => {
          process.once("SIGINT", resolve);
          process.once("SIGTERM", resolve);
        });
        watcher.close();
        clearInterval(pauser);
        await busy;
        log("stopping");
        await net.stop();
      },
    );
}
