/**
 * `mfi prove` → `mfi claim` and `mfi simulate` through the real binary against a devnet (real anvil, SQLite, gateway;
 * the claim carries a real Groth16 proof checked by the deployed verifier).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../cli/config.ts";
import { startDevnet, type Devnet } from "../cli/devnet/devnet.ts";
import { deviceKey, IMAGE_ID, makeChain } from "../circuits/fixtures.ts";

/** A minute on the applet's schedule (registered below with one-minute epochs from this genesis). */
const EPOCH = { startMs: 1_764_000_000_000n, lengthMs: 60_000n };
const epochPoints = (inside: bigint[]) => [
  { ts: EPOCH.startMs - 5000n, v: 1000n },
  ...inside.map((v, i) => ({ ts: EPOCH.startMs + BigInt(i) * 1000n, v })),
  { ts: EPOCH.startMs + EPOCH.lengthMs, v: 7n },
];
import { mfi } from "./helpers.ts";

const s = (x: unknown) => JSON.stringify(x, (_k, v) => (typeof v === "bigint" ? v.toString() : v));
const tmp = mkdtempSync(join(tmpdir(), "mfi-cli-devnet-"));
let net: Devnet;

beforeAll(async () => {
  net = await startDevnet({
    config: loadConfig({ env: {}, overrides: { devices: 0, simulate: false } }),
    startWorker: false,
    applets: [],
    mockProofs: true,
  });
}, 300_000);
afterAll(async () => {
  await net?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

describe("mfi prove + mfi claim", () => {
  it("proves a receipt, is paid for it once, and names every refusal with its exit code", async () => {
    const key = await deviceKey(5);
    const readings = await makeChain(key, epochPoints([4n, 6n, 9n]));
    writeFileSync(join(tmp, "readings.json"), s({ readings, publicKey: key.publicKey }));
    const receipt = join(tmp, "receipt.json");
    const args = [
      "--readings",
      join(tmp, "readings.json"),
      "--epoch-start",
      String(EPOCH.startMs),
      "--epoch-length",
      String(EPOCH.lengthMs),
      "--image-id",
      IMAGE_ID,
    ];
    const proved = await mfi(["prove", ...args, "--claim", "19", "--out", receipt]);
    expect(proved.code, proved.stderr).toBe(0);
    // Not a TTY: plain stage lines with times, then the total.
    expect(proved.stderr).toMatch(/witness .*\d+(\.\d+)? s/);
    expect(proved.stderr).toMatch(/prove .*\d+(\.\d+)? s/);
    expect(proved.stderr).toMatch(/verify .*\d+(\.\d+)? s/);
    expect(proved.stderr).not.toMatch(/\r/);
    expect(proved.stdout).toContain("sum = 19");

    // The applet (reducer sum, real verifier) and the device exist on L1.
    await net.admin.registerApplet({
      imageId: IMAGE_ID,
      verifier: { reducer: "sum" },
      rewardPerUnit: 3n,
      epochLengthMs: EPOCH.lengthMs,
      genesisMs: EPOCH.startMs,
    });
    await net.admin.registerDevicesBatch({ deviceIds: [key.deviceId], owners: [net.owners[1]!] });
    const before = await net.admin.balanceOf(net.owners[1]!);
    const chain = ["--rpc", net.rpcUrl, "--key", net.keys[1]!, "--deployments", join(net.dir, "deployments")];

    // A window off the applet's schedule is refused before any proving (exit 2, no receipt): shifted by 1 ms on
    // chain, and of the wrong length for energy-sum's applet.json (one-hour epochs).
    const shiftedOut = join(tmp, "shifted.json");
    const at = (startMs: bigint) => args.map((a) => (a === String(EPOCH.startMs) ? String(startMs) : a));
    const [shifted, wrongLength] = await Promise.all([
      mfi([
        "prove",
        ...at(EPOCH.startMs + 1n),
        "--out",
        shiftedOut,
        "--rpc",
        net.rpcUrl,
        "--deployments",
        join(net.dir, "deployments"),
      ]),
      mfi(["prove", ...args, "--out", shiftedOut, "--applet", "applets/energy-sum"]),
    ]);
    expect(shifted.code, shifted.stderr).toBe(2);
    expect(shifted.stderr).toMatch(/EpochScheduleError|not 1764000000000 \+ i·60000/);
    expect(shifted.stderr).not.toMatch(/witness/);
    expect(wrongLength.code, wrongLength.stderr).toBe(2);
    expect(wrongLength.stderr).toMatch(/the applet's epochs are 3600000 ms/);
    expect(existsSync(shiftedOut)).toBe(false);
    const paid = await mfi(["claim", receipt, ...chain, "--json"]);
    expect(paid.code, paid.stderr).toBe(0);
    const out = JSON.parse(paid.stdout) as { txHash: string; reward: string; owner: string };
    expect(out.txHash).toMatch(/^0x[0-9a-f]{64}$/);
    expect(BigInt(out.reward)).toBe(57n);
    expect((await net.admin.balanceOf(net.owners[1]!)) - before).toBe(57n);

    writeFileSync(join(tmp, "broken.json"), "{ not json");
    const [again, broken, noChain, noArgs] = await Promise.all([
      mfi(["claim", receipt, ...chain]),
      mfi(["claim", join(tmp, "broken.json"), ...chain]),
      mfi(["claim", receipt, "--rpc", "http://127.0.0.1:9", "--key", net.keys[1]!]),
      mfi(["claim", receipt], { env: { MFI_RPC_URL: "", MFI_PRIVATE_KEY: "" } }),
    ]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/AlreadyClaimed|already/i);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toMatch(/broken\.json: .*make one with `mfi prove`/);
    expect(noChain.code).toBe(3);
    expect(noChain.stderr).toMatch(/cannot reach http:\/\/127\.0\.0\.1:9/);
    expect(noArgs.code).toBe(2);
    expect(noArgs.stderr).toMatch(/pass --rpc <url> --key/);
  }, 300_000);
});

describe("mfi simulate", () => {
  const values = (deviceIds: string[]) =>
    Promise.all(
      deviceIds.map(async (id) =>
        (await net.store.listReadings({ deviceId: BigInt(id), limit: 100_000 })).map((r) => r.values[0]!),
      ),
    );

  it("runs a seeded fleet: noise within bounds, forged batches refused, the same values again with the same seed", async () => {
    const state = join(tmp, "sim");
    const args = [
      "simulate",
      "--url",
      net.gatewayUrl,
      "--devices",
      "3",
      "--rate",
      "4",
      "--duration",
      "2.5",
      "--faulty",
      "0.34",
      "--noise",
      "10",
      "--seed",
      "6",
      "--state",
      state,
    ];
    const reg = [
      "--chain-id",
      String(net.chainId),
      "--registry",
      net.manifest.contracts.DeviceRegistry,
      "--owner",
      net.owners[0]!,
      "--json",
    ];
    const first = await mfi([...args, ...reg]);
    expect(first.code, first.stderr).toBe(0);
    const r1 = JSON.parse(first.stdout) as {
      seed: number;
      noise: number;
      accepted: number;
      rejected: number;
      sent: number;
    };
    expect(r1).toMatchObject({ seed: 6, noise: 10 });
    expect(r1.accepted).toBeGreaterThan(0);
    // Seed 6 makes the faulty third device forge its first batches: the gateway refuses them.
    expect(r1.rejected).toBeGreaterThan(0);
    const ids = (JSON.parse(readFileSync(join(state, "fleet", "device-keys.json"), "utf8")) as string[]).length;
    expect(ids).toBe(3);
    const devices = (await net.store.listDevices({ limit: 100_000 })).map((d) => d.deviceId.toString()).slice(-3);
    const v1 = await values(devices);
    expect(v1.flat().length).toBe(r1.accepted);
    for (const v of v1.flat()) expect((v >= 90n && v <= 110n) || (v >= 300n && v < 500n), `value ${v}`).toBe(true);

    const second = await mfi([...args, ...reg]);
    expect(second.code, second.stderr).toBe(0);
    const v2 = await values(devices);
    for (let d = 0; d < 3; d++) {
      const again = v2[d]!.slice(v1[d]!.length);
      const n = Math.min(again.length, v1[d]!.length);
      expect(n).toBeGreaterThan(0);
      expect(again.slice(0, n)).toEqual(v1[d]!.slice(0, n));
    }
  }, 240_000);

  it("refuses bad usage (2) and an unreachable gateway (3)", async () => {
    const [noise, seed, down] = await Promise.all([
      mfi(["simulate", "--noise", "-1"]),
      mfi(["simulate", "--seed", "abc"]),
      mfi(["simulate", "--url", "http://127.0.0.1:9", "--duration", "1"]),
    ]);
    expect(noise.code).toBe(2);
    expect(noise.stderr).toMatch(/--noise must be a number/);
    expect(seed.code).toBe(2);
    expect(seed.stderr).toMatch(/--seed must be a whole number/);
    expect(down.code).toBe(3);
    expect(down.stderr).toMatch(/cannot reach the gateway at http:\/\/127\.0\.0\.1:9/);
  }, 120_000);
});
