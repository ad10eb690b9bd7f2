/** The devnet module: free ports, readiness, persistence with --state, no anvil outliving its parent; deploy + manifest. */
import { describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { JsonRpcProvider } from "ethers";
import {
  startAnvil,
  deployAll,
  readManifest,
  createMachinefiClient,
  ContractsError,
  ContractsEnvironmentError,
} from "./index.ts";

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
async function waitGone(pid: number, ms = 10_000) {
  const end = Date.now() + ms;
  while (alive(pid) && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  return !alive(pid);
}

describe("startAnvil", () => {
  it("starts two devnets on free ports, ready to answer, and stops them", async () => {
    const [a, b] = await Promise.all([startAnvil(), startAnvil({ chainId: 4242 })]);
    try {
      expect(a.rpcUrl).not.toBe(b.rpcUrl);
      expect(a.chainId).toBe(31337n);
      expect(b.chainId).toBe(4242n);
      expect(a.accounts).toHaveLength(10);
      const p = new JsonRpcProvider(a.rpcUrl);
      const { Wallet } = await import("ethers");
      expect(await p.getBalance(new Wallet(a.accounts[3]!).address)).toBeGreaterThan(0n);
      p.destroy();
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
    expect(await waitGone(a.pid)).toBe(true);
    expect(await waitGone(b.pid)).toBe(true);
  });

  it("runs in a process group of its own, so a Ctrl-C to ours does not reach it (the devnet stops it last)", async () => {
    const a = await startAnvil();
    try {
      // Signal 0 to the group led by anvil's guard: throws ESRCH unless it leads a group of its own.
      expect(() => process.kill(-a.pid, 0)).not.toThrow();
      const ours = readFileSync("/proc/self/stat", "utf8").split(") ")[1]!.split(" ")[2];
      expect(readFileSync(`/proc/${a.pid}/stat`, "utf8").split(") ")[1]!.split(" ")[2]).not.toBe(ours);
    } finally {
      await a.stop();
    }
    expect(await waitGone(a.pid)).toBe(true);
  });

  it("persists the chain in stateDir across restarts", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mfi-anvil-state-"));
    try {
      const first = await startAnvil({ stateDir: dir });
      const manifest = await deployAll({ rpcUrl: first.rpcUrl, privateKey: first.accounts[0]!, manifestDir: dir });
      await first.stop();
      const second = await startAnvil({ stateDir: dir });
      try {
        const p = new JsonRpcProvider(second.rpcUrl);
        expect((await p.getCode(manifest.contracts.PayoutVault)).length).toBeGreaterThan(100);
        p.destroy();
        expect(readManifest(31337, dir).contracts.PayoutVault).toBe(manifest.contracts.PayoutVault);
      } finally {
        await second.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("leaves no anvil behind when its parent is killed", async () => {
    const script = `import { startAnvil } from ${JSON.stringify(join(import.meta.dirname, "anvil.ts"))};
      const a = await startAnvil(); console.log("PID " + a.pid); setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ["--import", "./cli/register.mjs", "--input-type=module", "-e", script], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    const pid = await new Promise<number>((resolve, reject) => {
      let out = "";
      child.stdout!.on("data", (b: Buffer) => {
        out += b.toString();
        const m = /PID (\d+)/.exec(out);
        if (m) resolve(Number(m[1]));
      });
      child.once("exit", (code) => reject(new Error(`child exited early (${code}): ${out}`)));
    });
    expect(alive(pid)).toBe(true);
    child.kill("SIGKILL");
    expect(await waitGone(pid)).toBe(true);
  });
});

describe("deployAll", () => {
  it("deploys everything, writes <chainId>.json, and the client reads it back", async () => {
    const anvil = await startAnvil();
    const dir = mkdtempSync(join(tmpdir(), "mfi-manifest-"));
    try {
      const manifest = await deployAll({ rpcUrl: anvil.rpcUrl, privateKey: anvil.accounts[0]!, manifestDir: dir });
      const onDisk = JSON.parse(readFileSync(join(dir, "31337.json"), "utf8"));
      expect(onDisk).toEqual(manifest);
      expect(manifest.chainId).toBe(31337);
      // real registrations whenever the register circuit's verifier was generated
      expect(manifest.registerVerifier).toBe(manifest.verifiers.register ? "generated" : "mock");
      for (const v of Object.values(manifest.verifiers)) expect(v).toMatch(/^0x[0-9a-fA-F]{40}$/);
      const client = createMachinefiClient({ rpcUrl: anvil.rpcUrl, privateKey: anvil.accounts[1]!, manifest });
      expect(await client.balanceOf()).toBe(0n);
      const vault = await client.contracts.token.getFunction("hasRole")(
        await client.contracts.token.getFunction("MINTER_ROLE")(),
        manifest.contracts.PayoutVault,
      );
      expect(vault).toBe(true);
      client.close();
    } finally {
      await anvil.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("refuses to use MockVerifier for registrations on a non-devnet chain unless asked", async () => {
    const anvil = await startAnvil({ chainId: 4690 });
    try {
      const { generatedVerifierNames } = await import("./artifacts.ts");
      // (dev verifiers off 31337 need the opt-in: test/attacks/dev-keys.ts covers that refusal)
      const p = deployAll({
        rpcUrl: anvil.rpcUrl,
        privateKey: anvil.accounts[0]!,
        manifestDir: false,
        devKeysIKnowTheyAreInsecure: true,
      });
      if (generatedVerifierNames().includes("register")) {
        const m = await p;
        expect(m.registerVerifier).toBe("generated");
        expect(m.contracts.MockVerifier).toBeUndefined();
      } else {
        await expect(p).rejects.toBeInstanceOf(ContractsError);
      }
      await expect(
        deployAll({
          rpcUrl: anvil.rpcUrl,
          privateKey: anvil.accounts[0]!,
          manifestDir: false,
          mockRegistration: true,
          devKeysIKnowTheyAreInsecure: true,
        }),
      ).rejects.toThrow(/mockRegistration on chain 4690 needs allowMockVerifier/);
    } finally {
      await anvil.stop();
    }
  });

  it("names an unreachable RPC", async () => {
    await expect(
      deployAll({ rpcUrl: "http://127.0.0.1:9", privateKey: "0x" + "11".repeat(32), manifestDir: false }),
    ).rejects.toBeInstanceOf(ContractsEnvironmentError);
  });
});
