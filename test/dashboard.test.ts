/**
 * The dashboard and /metrics against a running devnet (real anvil, SQLite, gateway, Wasm runtime; MockVerifier proofs
 * to stay fast), checked over HTTP and in a real browser (Debian's chromium via playwright-core). The browser part
 * skips, saying so, only where /usr/bin/chromium is missing.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DeviceKey } from "../device-sdk/index.ts";
import type { Devnet } from "../cli/devnet/devnet.ts";
import { startHistoricalDevnet, waitFor, type HistoricalDevnet } from "./helpers.ts";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { scaffold } from "../cli/commands/init.ts";

const EPOCH = 10_000;
const CHROMIUM = "/usr/bin/chromium";
let net: Devnet;
let base: number;
const keys: DeviceKey[] = [];

beforeAll(async () => {
  let devices: HistoricalDevnet["devices"];
  ({ net, base, devices } = await startHistoricalDevnet({
    epochMs: EPOCH,
    devices: 2,
    applets: ["energy-sum"],
    mockProofs: true,
  }));
  for (const [d, { key, client }] of devices.entries()) {
    keys.push(key);
    const inside = [10n, 20n, 30n].map((v, j) => ({ ts: base + 500 + j * 1000, values: [v + BigInt(d), 2100n] }));
    expect((await client.sendBatch(inside)).status).toBe("accepted");
    expect((await client.sendBatch([{ ts: base + EPOCH + 300, values: [1n] }])).status).toBe("accepted");
  }
  net.worker.start(100);
  await waitFor(
    async () => {
      const d = (await (await fetch(`${net.gatewayUrl}/dashboard.json`)).json()) as {
        claimCounts: Record<string, number>;
      };
      return d.claimCounts.paid === 2;
    },
    120_000,
    250,
  );
}, 300_000);

afterAll(async () => {
  await net?.stop();
});

describe("dashboard", () => {
  it("serves JSON with devices, runs, claims and payouts from the database", async () => {
    const d = (await (await fetch(`${net.gatewayUrl}/dashboard.json`)).json()) as Record<string, any>;
    expect(d.devices.map((x: { deviceId: string }) => x.deviceId).sort()).toEqual(
      keys.map((k) => k.deviceId.toString()).sort(),
    );
    expect(d.devices.every((x: { readings: number; lastSeq: number }) => x.readings === 4 && x.lastSeq === 4)).toBe(
      true,
    );
    expect(d.readingsTotal).toBe(8);
    // Split by transport from the gateway's counters: these devices posted over HTTP.
    expect(d.transports).toContainEqual({ transport: "http", readings: 8, resent: 0, rejected: 0 });
    expect(d.runs.length).toBe(2);
    expect(d.runs.every((r: { fuelUsed: number; trap: string | null }) => r.fuelUsed > 0 && r.trap === null)).toBe(
      true,
    );
    expect(
      d.claims.every((c: { state: string; txHash: string }) => c.state === "paid" && /^0x[0-9a-f]{64}$/.test(c.txHash)),
    ).toBe(true);
    expect(d.payouts.map((p: { owner: string }) => p.owner.toLowerCase()).sort()).toEqual(
      net.owners
        .slice(0, 2)
        .map((o) => o.toLowerCase())
        .sort(),
    );
    // Each owner is paid at least once; the total paid is the owners' sum, the series never exceeds it.
    const total = d.payouts.reduce((a: bigint, p: { reward: string }) => a + BigInt(p.reward), 0n);
    expect(total > 0n).toBe(true);
    expect(BigInt(d.rewardPaid)).toBe(total);
    expect(BigInt(d.rewardSeries.at(-1).total) <= total).toBe(true);
    expect(d).toMatchObject({ devicesTotal: 2, claimsTotal: 2, payoutOwners: 2 });
    expect(d.runs.every((r: { applet: string }) => r.applet === "energy-sum")).toBe(true);
  });

  it("exposes Prometheus metrics for ingest, runs, fuel and claims", async () => {
    const res = await fetch(`${net.gatewayUrl}/metrics`);
    expect(res.status).toBe(200);
    const text = await res.text();
    const value = (name: string) => Number(text.match(new RegExp(`^${name} (\\S+)$`, "m"))?.[1]);
    expect(value('mfi_ingest_readings_total\\{transport="http"\\}')).toBe(8);
    expect(value("mfi_worker_runs_total")).toBe(2);
    expect(value("mfi_worker_fuel_used_total")).toBeGreaterThan(0);
    expect(text).toMatch(/^mfi_worker_claims\{state="paid"\} 2$/m);
    expect(value("mfi_worker_gas_used_total")).toBeGreaterThan(0);
    expect(text).toMatch(/^mfi_ingest_duration_seconds_count 4$/m);
    // A forged batch is refused and counted by reason.
    const bad = await fetch(`${net.gatewayUrl}/v1/devices/${keys[0]!.deviceId}/readings/batch`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect(bad.status).toBe(400);
    const after = await (await fetch(`${net.gatewayUrl}/metrics`)).text();
    expect(after).toMatch(/^mfi_ingest_rejections_total\{reason="[a-z-]+",transport="http"\} 1$/m);
  });

  it.skipIf(!existsSync(CHROMIUM))(
    `shows devices, runs and claims in a real browser${existsSync(CHROMIUM) ? "" : ` (skipped: ${CHROMIUM} missing; apt-get install chromium)`}`,
    async () => {
      const { chromium } = await import("playwright-core");
      const profile = mkdtempSync(join(tmpdir(), "mfi-chromium-"));
      // A fresh profile dir per run (playwright passes it as --user-data-dir).
      const browser = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM,
        headless: true,
        args: [
          "--headless",
          "--no-sandbox",
          "--disable-gpu",
          "--disable-quic",
          "--no-first-run",
          "--disable-background-networking",
          "--disable-component-update",
          "--disable-sync",
        ],
      });
      try {
        const page = await browser.newPage();
        await page.goto(`${net.gatewayUrl}/dashboard`);
        expect(await page.title()).toBe("machinefi dashboard");
        expect(await page.textContent("#kpi-devices")).toBe("2");
        expect(await page.textContent("#kpi-paid")).toBe("2");
        for (const k of keys) expect(await page.locator(`#devices tr[data-device="${k.deviceId}"]`).count()).toBe(1);
        expect(await page.locator("#runs tbody tr").count()).toBe(2);
        expect(await page.locator('#claims tbody tr[data-state="paid"]').count()).toBe(2);
        expect(await page.locator("#payouts tbody tr").count()).toBe(2);
        // The charts are drawn: a polyline with one point per minute of the window, which fits the data (2 to 60
        // minutes: how many depends on whether the readings fell in a minute now complete). The page and the JSON agree.
        const points = (await page.getAttribute("#chart-readings polyline", "points"))?.split(" ") ?? [];
        const series = (await (await fetch(`${net.gatewayUrl}/dashboard.json`)).json()).readingsSeries as unknown[];
        expect(points.length).toBeGreaterThanOrEqual(2);
        expect(points.length).toBeLessThanOrEqual(60);
        expect(Math.abs(points.length - series.length)).toBeLessThanOrEqual(1);
      } finally {
        await browser.close();
        rmSync(profile, { recursive: true, force: true });
      }
    },
  );

  it("mfi deploy registers a new applet's imageId on the devnet's chain", async () => {
    const parent = mkdtempSync(join(tmpdir(), "mfi-deploy-"));
    const dir = join(parent, "deploy-probe");
    try {
      scaffold({ name: "deploy-probe", dir });
      // the manifest's epoch length goes on chain with the registration (the vault pays only that schedule)
      const manifestFile = join(dir, "applet.json");
      writeFileSync(
        manifestFile,
        JSON.stringify({ ...JSON.parse(readFileSync(manifestFile, "utf8")), epochLengthMs: 120_000 }),
      );
      const { stdout } = await promisify(execFile)(process.execPath, [
        join(import.meta.dirname, "..", "cli", "bin.mjs"),
        "deploy",
        dir,
        "--json",
        "--mock-verifier",
        "--reward",
        "7",
        "--rpc",
        net.rpcUrl,
        "--key",
        net.keys[0]!,
        "--deployments",
        join(net.dir, "deployments"),
      ]).catch((err: { stdout: string; stderr: string }) => {
        throw new Error(`mfi deploy failed:\n${err.stdout}\n${err.stderr}`);
      });
      const out = JSON.parse(stdout) as { imageId: string; txHash: string | null; alreadyRegistered: boolean };
      expect(out.alreadyRegistered).toBe(false);
      expect(out.txHash).toMatch(/^0x[0-9a-f]{64}$/);
      const onChain = await net.admin.appletOf(out.imageId);
      expect(onChain.owner.toLowerCase()).toBe((await import("ethers")).computeAddress(net.keys[0]!).toLowerCase());
      expect(onChain.rewardPerUnit).toBe(7n);
      expect(onChain.epochLengthMs).toBe(120_000n);
      expect(onChain.genesisMs % 120_000n).toBe(0n);
    } finally {
      rmSync(parent, { recursive: true, force: true });
    }
  }, 300_000);
});
