/**
 * Local devnet: anvil from the @foundry-rs/anvil npm package on a free port, ready when it listens, stopped with
 * its parent (and only then: it runs in its own process group, out of reach of the terminal's Ctrl-C). A tiny
 * /bin/sh guard holds anvil's lifetime to our stdin pipe, so even a SIGKILLed parent (a crashed test worker) leaves
 * no anvil behind: the pipe closes, the guard sends SIGTERM, anvil dumps --state and exits.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { HDNodeWallet, Mnemonic } from "ethers";
import { ContractsEnvironmentError } from "./errors.ts";

const require = createRequire(import.meta.url);
export const ANVIL_MNEMONIC = "test test test test test test test test test test test junk";

export interface StartAnvilOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Persist the chain here (anvil --state <dir>/anvil-state.json, dumped on stop and every 10 s). */
  stateDir?: string;
  /** Seconds between blocks; default: mine each transaction at once. */
  blockTime?: number;
  chainId?: number;
  /** Number of funded accounts (default 10). */
  accounts?: number;
  /** Record opcode steps so debug_traceTransaction returns geth-style struct logs (gas bench); slower. */
  stepsTracing?: boolean;
  /** How long to wait for anvil to listen (default 20 s). */
  timeoutMs?: number;
}

export interface Anvil {
  rpcUrl: string;
  chainId: bigint;
  /** Private keys of the default mnemonic's accounts, funded with 10,000 ETH each. */
  accounts: `0x${string}`[];
  pid: number;
  stop(): Promise<void>;
}

/** Path of the anvil binary for this platform, resolved the way @foundry-rs/anvil's own bin.mjs does. */
export function anvilBinary(): string {
  const arch = process.arch === "x64" ? "amd64" : process.arch;
  const pkg = `@foundry-rs/anvil-${process.platform}-${arch}`;
  const name = process.platform === "win32" ? "anvil.exe" : "anvil";
  try {
    const p = require.resolve(`${pkg}/bin/${name}`);
    if (existsSync(p)) return p;
  } catch {
    // fall through to the package's dist/ fallback
  }
  const fallback = join(require.resolve("@foundry-rs/anvil/package.json"), "..", "..", "dist", name);
  if (existsSync(fallback)) return fallback;
  throw new ContractsEnvironmentError(`anvil binary not found for ${process.platform}-${process.arch}`, {
    metaMessages: [`Expected ${pkg}/bin/${name}; run \`npm ci\` so the platform package is installed.`],
  });
}

// $0 is anvil; the guard kills it when our end of stdin closes (stop(), exit or crash of the parent).
const GUARD =
  'exec 3<&0; "$0" "$@" </dev/null & pid=$!; trap \'kill -TERM $pid 2>/dev/null\' TERM INT; read -r _ <&3; kill -TERM $pid 2>/dev/null; wait $pid';

const running = new Set<ChildProcess>();
process.once("exit", () => {
  for (const c of running) c.stdin?.destroy();
});

export async function startAnvil(opts: StartAnvilOptions = {}): Promise<Anvil> {
  const accounts = opts.accounts ?? 10;
  const args = ["--host", "127.0.0.1", "--port", String(opts.port ?? 0), "--accounts", String(accounts)];
  args.push("--mnemonic", ANVIL_MNEMONIC);
  if (opts.chainId !== undefined) args.push("--chain-id", String(opts.chainId));
  if (opts.stepsTracing) args.push("--steps-tracing");
  if (opts.blockTime !== undefined) args.push("--block-time", String(opts.blockTime));
  if (opts.stateDir) {
    mkdirSync(opts.stateDir, { recursive: true });
    args.push("--state", join(opts.stateDir, "anvil-state.json"), "--state-interval", "10");
  }
  // A process group of its own: a Ctrl-C in the terminal (SIGINT to the whole foreground group) must not kill the
  // chain under the devnet's orderly shutdown, which stops anvil last (stop() below, or the pipe closing).
  const child = spawn("/bin/sh", ["-c", GUARD, anvilBinary(), ...args], {
    stdio: ["pipe", "pipe", "pipe"],
    detached: true,
  });
  running.add(child);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.once("exit", () => running.delete(child));

  let out = "";
  let listening = () => {};
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(
      () => fail(`anvil did not listen within ${opts.timeoutMs ?? 20_000} ms`),
      opts.timeoutMs ?? 20_000,
    );
    const onData = (b: Buffer) => {
      out += b.toString();
      const m = /Listening on [\d.]+:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        child.stdout!.off("data", onData);
        child.stdout!.resume(); // keep draining so anvil never blocks on a full pipe
        resolve(Number(m[1]));
      } else if (out.length > 1 << 20) out = out.slice(-4096);
    };
    function fail(msg: string) {
      clearTimeout(timer);
      child.stdin!.destroy();
      reject(new ContractsEnvironmentError(msg, { details: out.slice(-2000) }));
    }
    child.stdout!.on("data", onData);
    child.stderr!.on("data", (b: Buffer) => (out += b.toString()));
    const onEarlyExit = (code: number | null) => fail(`anvil exited with code ${code} before listening`);
    child.once("exit", onEarlyExit);
    listening = () => child.off("exit", onEarlyExit);
  });
  listening();

  const rpcUrl = `http://127.0.0.1:${port}`;
  const chainId = await rpcChainId(rpcUrl);
  const root = HDNodeWallet.fromMnemonic(Mnemonic.fromPhrase(ANVIL_MNEMONIC), "m/44'/60'/0'/0");
  const keys = Array.from({ length: accounts }, (_, i) => root.deriveChild(i).privateKey as `0x${string}`);
  let stopping: Promise<void> | undefined;
  return {
    rpcUrl,
    chainId,
    accounts: keys,
    pid: child.pid!,
    stop() {
      stopping ??= (async () => {
        child.stdin!.end();
        const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
        await exited;
        clearTimeout(timer);
      })();
      return stopping;
    },
  };
}

async function rpcChainId(rpcUrl: string): Promise<bigint> {
  const res = await fetch(rpcUrl, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
  });
  const body = (await res.json()) as { result?: string };
  if (!body.result) throw new ContractsEnvironmentError(`anvil at ${rpcUrl} did not answer eth_chainId`);
  return BigInt(body.result);
}
