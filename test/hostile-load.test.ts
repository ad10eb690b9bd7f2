/**
 * The gateway and worker under hostile load (issue 19): an honest fleet posts signed readings at a steady rate while
 * strangers on other loopback addresses send, at the same time, junk bodies, forged 1,000-reading batches and bad
 * signatures for the honest devices, registration spam, HEAD scans without a key and live-feed requests without a
 * subscription (gateway/hostile/traffic.ts). Then the worker runs. Nothing crashes, every honest reading is
 * acknowledged and stored exactly once, and every honest claim of the run is paid. Bounded in time, loopback only.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../cli/config.ts";
import { startDevnet, type Devnet } from "../cli/devnet/devnet.ts";
import type { DeviceClient, DeviceKey } from "../device-sdk/index.ts";
import { runAttack, answeredCount, type AttackReport } from "../gateway/hostile/traffic.ts";
import { registerDevices, waitFor } from "./helpers.ts";

const EPOCH = 20_000;
// ms of reading time between an honest device's readings: 50 per epoch, so each epoch's segment (with the reading
// before and the signed one after) fits the applet's K = 64 circuit (mock proofs check the circuit's witness too)
const STEP = 400;
const BATCHES = 80; // per device, 4 readings each: 128 s of reading time, 7 epochs
const DEVICES = 6;

let net: Devnet;
let base: number;
let fleet: { key: DeviceKey; client: DeviceClient }[];

beforeAll(async () => {
  base = Math.floor((Date.now() - 3_600_000) / EPOCH) * EPOCH;
  net = await startDevnet({
    config: loadConfig({ env: {}, overrides: { devices: 0, epochMs: EPOCH, epochGraceMs: 0, simulate: false } }),
    fromMs: base,
    // Historical timestamps; operator routes behind a key as in production (the devnet opens them); every other
    // defence at its default: per-device rate, per-address failure and registration budgets, the bounded verifier queue.
    gateway: { maxClockSkewMs: null, operatorAuth: true },
    startWorker: false,
    applets: ["energy-sum"],
    mockProofs: true,
  });
  fleet = await registerDevices(net, DEVICES, (i) => net.owners[i % net.owners.length]!);
}, 300_000);

afterAll(async () => {
  await net?.stop();
});

describe("hostile load", () => {
  it("strangers cannot crash the gateway, lose an honest reading or stall an honest payout", async () => {
    const stop = new AbortController();
    const attack: Promise<AttackReport> = runAttack({
      url: net.gatewayUrl,
      victims: fleet.map((d) => d.key.deviceId),
      backend: net.backend,
      chainId: net.chainId,
      registry: net.manifest.contracts.DeviceRegistry,
      signal: stop.signal,
    });
    // The honest fleet: each device one batch of 4 readings (last signed) every 50 ms, values[0] > 0 throughout.
    const sent = new Map<bigint, number>();
    let queuedAtSomePoint = 0;
    await Promise.all(
      fleet.map(async (d, i) => {
        for (let b = 0; b < BATCHES; b++) {
          const readings = Array.from({ length: 4 }, (_, j) => ({
            ts: base + (b * 4 + j) * STEP + i,
            values: [BigInt(1 + ((b + j + i) % 7)), 2100n],
          }));
          const r = await d.client.sendBatch(readings);
          if (r.status === "queued") queuedAtSomePoint++;
          sent.set(d.key.deviceId, (sent.get(d.key.deviceId) ?? 0) + readings.length);
          await new Promise((res) => setTimeout(res, 50));
        }
      }),
    );
    stop.abort();
    const report = await attack;

    // The attack was real: every kind was answered many times, and refused.
    for (const kind of ["junk", "forged", "badsig", "register", "head", "live"] as const)
      expect(answeredCount(report, kind), kind).toBeGreaterThan(10);
    const statuses = (kind: keyof AttackReport["answered"]) => Object.keys(report.answered[kind]).map(Number);
    for (const kind of ["junk", "forged", "badsig", "head", "live"] as const)
      expect(
        statuses(kind).filter((s) => s < 400 || s >= 500),
        `${kind}: ${JSON.stringify(report.answered[kind])}`,
      ).toEqual([]);
    // Forged batches are refused by the cheap checks (409), or by the sender's spent budget (429).
    expect(
      statuses("forged").every((s) => s === 409 || s === 429),
      JSON.stringify(report.answered),
    ).toBe(true);
    expect(statuses("head").every((s) => s === 401 || s === 429)).toBe(true);
    expect(report.socketErrors).toBe(0);

    // The gateway is up, and every honest reading was acknowledged and stored exactly once.
    expect((await fetch(`${net.gatewayUrl}/healthz`)).status).toBe(200);
    const E = Math.ceil((BATCHES * 4 * STEP) / EPOCH);
    for (const [i, d] of fleet.entries()) {
      // Close the run's last epoch with two readings after it (the last signed); this also flushes any queue.
      const tail = await d.client.sendBatch([
        { ts: base + E * EPOCH + 100 + i, values: [1n, 0n] },
        { ts: base + E * EPOCH + 900 + i, values: [1n, 0n] },
      ]);
      expect(tail.status).toBe("accepted");
      expect(await d.client.queued()).toBe(0);
      expect(await net.store.countReadings(d.key.deviceId)).toBe(sent.get(d.key.deviceId)! + 2);
    }
    expect(queuedAtSomePoint, "honest batches left queued (not acknowledged) during the attack").toBe(0);

    // Every honest claim of the run is paid: one per device and epoch.
    net.worker.start(100);
    await waitFor(async () => {
      const c = await net.store.worker.claimCounts();
      return c.paid >= DEVICES * E || c.failed > 0;
    }, 180_000);
    const counts = await net.store.worker.claimCounts();
    expect((await net.store.worker.listClaims(100)).filter((c) => c.state === "failed").map((c) => c.error)).toEqual(
      [],
    );
    expect(counts.paid).toBe(DEVICES * E);
  });
});
