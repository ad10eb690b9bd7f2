/**
 * Kill the worker process (SIGKILL) while it proves and while it pays, restart it, and check that every claim is
 * paid exactly once: one ClaimPaid event per (applet, device, epoch), balances equal to the rewards. Real anvil,
 * real SQLite shared with the gateway, real proofs.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import type { Devnet } from "../cli/devnet/devnet.ts";
import { startHistoricalDevnet, waitFor, type HistoricalDevnet } from "./helpers.ts";
import { listApplets } from "../toolchain/index.ts";

const EPOCH = 10_000;
let net: Devnet;
let base: number;
const children: ChildProcess[] = [];

function startWorkerProcess(onEvent: (e: { type: string; state?: string }) => void): ChildProcess {
  const child = spawn(
    process.execPath,
    [
      "--import",
      "./cli/register.mjs",
      "worker/main.ts",
      "--db",
      join(net.dir, "machinefi.sqlite"),
      "--rpc",
      net.rpcUrl,
      "--manifest",
      join(net.dir, "deployments", `${net.chainId}.json`),
      "--epoch-ms",
      String(EPOCH),
      "--grace-ms",
      "0",
    ],
    { env: { ...process.env, MFI_PRIVATE_KEY: net.keys[1] }, stdio: ["ignore", "pipe", "inherit"] },
  );
  children.push(child);
  let buf = "";
  child.stdout!.on("data", (d: Buffer) => {
    buf += d.toString();
    let i: number;
    while ((i = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      try {
        onEvent(JSON.parse(line));
      } catch {
        /* not an event line */
      }
    }
  });
  return child;
}

const exited = (c: ChildProcess) =>
  new Promise<void>((r) => (c.exitCode !== null || c.signalCode !== null ? r() : c.once("exit", () => r())));

beforeAll(async () => {
  let devices: HistoricalDevnet["devices"];
  ({ net, base, devices } = await startHistoricalDevnet({
    epochMs: EPOCH,
    devices: 2,
    owner: () => 0,
    applets: ["energy-sum"],
  }));
  for (const [d, { client }] of devices.entries()) {
    // Two epochs of readings, then one signed reading after them.
    const inputs = [0, 3000, 6000, EPOCH + 1000, EPOCH + 4000].map((t, j) => ({
      ts: base + t,
      values: [BigInt(10 + j + d)],
    }));
    await client.sendBatch(inputs);
    await client.sendBatch([{ ts: base + 2 * EPOCH + 500, values: [1n] }]);
  }
}, 600_000);

afterAll(async () => {
  for (const c of children) c.kill("SIGKILL");
  await net?.stop();
});

describe("worker crash safety", () => {
  it("pays every claim exactly once across SIGKILLs while proving and while paying", async () => {
    const before = await net.admin.balanceOf(net.owners[0]!);
    // 1st life: killed as soon as the first proof is stored (others are mid-proof or pending).
    const w1 = startWorkerProcess((e) => e.state === "proved" && w1.kill("SIGKILL"));
    await exited(w1);
    // 2nd life: killed as soon as a claim transaction is sent.
    const w2 = startWorkerProcess((e) => e.state === "submitted" && w2.kill("SIGKILL"));
    await exited(w2);
    // 3rd life: runs to the end.
    const w3 = startWorkerProcess(() => {});
    // 2 devices × epochs 0 and 1 are payable; epoch 2 never closes for them (no reading after it, and it is long past).
    await waitFor(async () => (await net.store.worker.claimCounts()).paid >= 4, 300_000, 250);
    w3.kill("SIGTERM");
    await exited(w3);

    const claims = await net.store.worker.listClaims(100);
    const paid = claims.filter((c) => c.state === "paid");
    expect(paid.length).toBe(4);
    expect(claims).toHaveLength(4);
    const events = await net.admin.contracts.vault.queryFilter("ClaimPaid", net.manifest.block);
    const keys = events.map((ev) => {
      const a = (ev as unknown as { args: unknown[] }).args;
      return `${a[0]}/${a[1]}/${a[2]}`;
    });
    expect(new Set(keys).size).toBe(keys.length); // never twice
    expect(keys.length).toBe(paid.length);
    let rewards = 0n;
    for (const ev of events) rewards += (ev as unknown as { args: { reward: bigint } }).args.reward;
    const perUnit = BigInt(listApplets().find((a) => a.name === "energy-sum")!.manifest.rewardPerUnit);
    const expectedReward = paid.reduce((a, c) => a + BigInt(c.output), 0n) * perUnit;
    expect(rewards).toBe(expectedReward);
    expect(await net.admin.balanceOf(net.owners[0]!)).toBe(before + rewards);
  }, 600_000);
});
