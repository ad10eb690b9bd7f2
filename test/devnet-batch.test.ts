/**
 * `npm start -- --batch 2` (`mfi devnet --batch 2`) through the real binary, real proofs (issue 26): the devnet
 * deploys a BatchVault, switches energy-sum to it, sets the N = 2 batch verifier (set up once, cached under
 * build/batch-circuits/), and the worker credits energy-sum's device-epochs in batches of the fleet's two devices.
 * Checked: a batch credited with both devices, the vault's root on the chain is a root the worker's store recorded,
 * /dashboard.json and /dashboard list the batch, `mfi status --json` too; Ctrl-C to the group stops it cleanly.
 * Lean: 2 devices, 20 s epochs, the build cached by the other devnet tests (a clean clone sets up N = 2 once here).
 */
import { execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { Interface } from "ethers";
import { afterAll, describe, expect, it } from "vitest";
import { mfiBin } from "./helpers.ts";

const state = mkdtempSync(join(tmpdir(), "mfi-devnet-batch-"));
let pgid: number | undefined;
afterAll(() => {
  if (pgid) {
    try {
      process.kill(-pgid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  rmSync(state, { recursive: true, force: true });
});

const vault = new Interface(["function rootOf(bytes32 imageId) view returns (uint256)"]);

async function rpc(url: string, method: string, params: unknown[]): Promise<string> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  return ((await res.json()) as { result: string }).result;
}

interface JsonBatch {
  id: number;
  imageId: string;
  applet: string | null;
  state: string;
  devices: number;
  n: number;
  txHash: string | null;
  gasUsed: number | null;
}

describe("mfi devnet --batch 2 (npm start -- --batch 2)", () => {
  it("credits energy-sum in batch proofs of the fleet's 2 devices; the vault's root, the dashboard and mfi status agree", async () => {
    const env = {
      ...process.env,
      MFI_DEVICES: "2",
      MFI_EPOCH_MS: "20000",
      MFI_EPOCH_GRACE_MS: "500",
    };
    const child = spawn(process.execPath, [mfiBin, "devnet", "--batch", "2", "--state", state], {
      env,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    pgid = child.pid;
    let out = "";
    let err = "";
    child.stdout.on("data", (b: Buffer) => (out += b.toString()));
    child.stderr.on("data", (b: Buffer) => (err += b.toString()));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    const until = async (re: RegExp, ms: number) => {
      const t0 = Date.now();
      while (!re.test(out)) {
        if (Date.now() - t0 > ms || child.exitCode !== null)
          throw new Error(`no ${re} within ${ms} ms\n--- stdout\n${out.slice(-3000)}\n--- stderr\n${err.slice(-3000)}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    };
    await until(/machinefi devnet is up/, 600_000);
    const gateway = /gateway\s+(http:\/\/\S+)/.exec(out)![1]!;
    const chain = /chain \(anvil\)\s+(http:\/\/\S+)/.exec(out)![1]!;
    const vaultAddress = /BatchVault deployed at (0x[0-9a-fA-F]{40})/.exec(out)![1]!;
    expect(out).toMatch(/applet energy-sum switched to batch claims of up to 2 devices/);
    // First batch proofs at load take minutes (the N = 2 setup on a clean clone, then ~50k-constraint proofs).
    await until(/batch #\d+ credited \(2 devices\) tx 0x/, 900_000);

    const d = (await (await fetch(`${gateway}/dashboard.json`)).json()) as { batches: JsonBatch[] };
    const credited = d.batches.filter((b) => b.state === "credited");
    expect(credited.length).toBeGreaterThan(0);
    for (const b of credited) {
      expect([b.applet, b.devices, b.n]).toEqual(["energy-sum", 2, 2]);
      expect(b.txHash).toMatch(/^0x[0-9a-f]{64}$/);
      expect(b.gasUsed).toBeGreaterThan(200_000);
    }
    expect(await (await fetch(`${gateway}/dashboard`)).text()).toMatch(
      /<table id="batches">[\s\S]*data-state="credited"/,
    );

    // The vault's root is one the worker's store recorded for a batch it sent (read after the root: the store
    // records a batch after its transaction).
    const imageId = credited[0]!.imageId.replace(/^0x/, "");
    const root = BigInt(
      await rpc(chain, "eth_call", [
        { to: vaultAddress, data: vault.encodeFunctionData("rootOf", ["0x" + imageId]) },
        "latest",
      ]),
    );
    const status = JSON.parse(
      (
        await promisify(execFile)(process.execPath, [mfiBin, "status", "--state", state, "--json"], {
          env: process.env,
        })
      ).stdout,
    ) as { recentBatches: (JsonBatch & { claims: number[] })[] };
    expect(status.recentBatches.some((b) => b.state === "credited" && b.claims.length === 2)).toBe(true);
    const { openStore } = await import("../store/index.ts");
    const store = openStore(join(state, "machinefi.sqlite"));
    const sent = (await store.batches.listBatches(100)).filter((b) => ["submitted", "credited"].includes(b.state));
    await store.close();
    expect(sent.map((b) => BigInt(b.new_root!))).toContain(root);

    // an owner's keeper withdraws a credited device's earnings with the CLI, from the chain alone (any key may send
    // it: the tokens go to the token's owner); a second withdrawal has nothing left to pay
    const creditedBatch = sent.find((b) => b.state === "credited")!;
    const deviceId = (JSON.parse(creditedBatch.credits!) as { deviceId: string }[])[0]!.deviceId;
    const withdraw = (key: string) =>
      promisify(execFile)(
        process.execPath,
        [
          mfiBin,
          "withdraw",
          "--state",
          state,
          "--rpc",
          chain,
          "--key",
          key,
          "--applet",
          `0x${imageId}`,
          "--device",
          deviceId,
          "--json",
        ],
        { env: process.env },
      );
    // anvil's account #5: not the operator, not the owner
    const keeper = "0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba";
    const paid = JSON.parse((await withdraw(keeper)).stdout) as {
      owner: string;
      units: string;
      reward: string;
      epoch: string;
    };
    expect(BigInt(paid.units)).toBeGreaterThan(0n);
    expect(paid.owner).toMatch(/^0x[0-9a-fA-F]{40}$/);
    // the same credit again: NothingToWithdrawError, exit 1 (unless a later batch credited the device meanwhile:
    // then it pays only that later epoch's units, never the same ones twice)
    const again = await withdraw(keeper).then(
      (r) => ({ code: 0, stdout: r.stdout, stderr: "" }),
      (e: { code: number; stdout: string; stderr: string }) => e,
    );
    if (again.code === 0) expect(BigInt(JSON.parse(again.stdout).epoch)).toBeGreaterThan(BigInt(paid.epoch));
    else expect([again.code, again.stderr]).toEqual([1, expect.stringMatching(/were withdrawn/)]);

    process.kill(-child.pid!, "SIGINT");
    const code = await exited;
    pgid = undefined;
    expect(err, err).not.toMatch(/Unhandled|node:internal/);
    expect(out).toContain("stopped cleanly.");
    expect(code, `${out.slice(-2000)}\n${err}`).toBe(0);
  }, 1_800_000);
});
