/**
 * End to end, all real: anvil, contracts, SQLite, the HTTP gateway, the Wasm runtime, circom/snarkjs proofs.
 * Devices register and post signed readings (historical timestamps, so epochs are already closed); the worker
 * runs every provable example applet per device and epoch, proves each claim with the applet's own compiled circuit
 * and pays it; owners' balances grow by exactly the rewards computed from the readings, independently of the applets.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DeviceClient, DeviceKey } from "../device-sdk/index.ts";
import { ContractRevertedError } from "../contracts/index.ts";
import { replayRun } from "../worker/index.ts";
import { verifyReceipt, receiptFromJSON, closeProver } from "../circuits/index.ts";
import { appletFromPath } from "../cli/verify-applet.ts";
import type { Devnet } from "../cli/devnet/devnet.ts";
import { startHistoricalDevnet, trapAppletWasm, waitFor, type HistoricalDevnet } from "./helpers.ts";
import { listApplets, APPLETS_DIR } from "../toolchain/index.ts";
import { join } from "node:path";

const EPOCH = 10_000;
/** What each example applet claims, written here independently of its AssemblyScript (uptime-streak keeps state). */
const HOUR = 3_600_000;
const reference: Record<string, (param: bigint | undefined, values: bigint[], ts: number[]) => bigint> = {
  "energy-sum": (_, vs) => vs.reduce((a, v) => a + v, 0n),
  "threshold-alert": (p, vs) => BigInt(vs.filter((v) => v > p!).length),
  // values[0] of the readings between 17:00 (inclusive) and 21:00 UTC
  "peak-energy": (_, vs, ts) =>
    vs.reduce((a, v, i) => {
      const hour = Math.floor((ts[i]! % (24 * HOUR)) / HOUR);
      return hour >= 17 && hour < 21 ? a + v : a;
    }, 0n),
  // last minus first, nothing after a reset
  "meter-delta": (_, vs) => (vs[vs.length - 1]! > vs[0]! ? vs[vs.length - 1]! - vs[0]! : 0n),
  // up reports (values[0] above the param); its streak lives in state, carried on chain (PayoutVault.claimStateful)
  "uptime-streak": (p, vs) => BigInt(vs.filter((v) => v > p!).length),
};
let net: Devnet;
let base: number;
const devices: { key: DeviceKey; client: DeviceClient; values: bigint[]; ts: number[] }[] = [];

beforeAll(async () => {
  let registered: HistoricalDevnet["devices"];
  ({
    net,
    base,
    devices: registered,
  } = await startHistoricalDevnet({ epochMs: EPOCH, devices: 2, applets: process.env.MFI_E2E_APPLETS?.split(",") }));
  for (const d of registered) devices.push({ ...d, values: [], ts: [] });
}, 600_000);

afterAll(async () => {
  await net?.stop();
  await closeProver();
});

describe("device → gateway → applet → proof → paid", () => {
  it("pays each owner exactly the reward computed from its device's readings", async () => {
    // Epoch 0: 6 readings per device (values differ per device), then 2 readings after the epoch (the last signed).
    for (const [i, d] of devices.entries()) {
      // Some values above threshold-alert's threshold (300), all above uptime's (0).
      const v0 = [40n, 57n, 74n, 91n, 350n, 420n].map((v) => v + 5n * BigInt(i));
      const inside = v0.map((v, j) => ({ ts: base + 500 + j * 1000, values: [v, 2100n] }));
      d.values = inside.map((r) => r.values[0]!);
      d.ts = inside.map((r) => r.ts);
      expect((await d.client.sendBatch(inside.slice(0, 3))).status).toBe("accepted");
      expect((await d.client.sendBatch(inside.slice(3))).status).toBe("accepted");
      expect(
        (
          await d.client.sendBatch([
            { ts: base + EPOCH + 200, values: [1n] },
            { ts: base + EPOCH + 900, values: [2n] },
          ])
        ).status,
      ).toBe("accepted");
    }
    const before = await Promise.all(net.owners.slice(0, 2).map((o) => net.admin.balanceOf(o)));
    net.worker.start(100);
    const manifests = new Map(listApplets().map((a) => [a.name, a.manifest]));
    // Every applet the devnet registered is provable and has a reference; energy-sum at least.
    expect(net.applets.map((a) => a.name)).toContain("energy-sum");
    for (const a of net.applets) expect(reference[a.name], `a reference for ${a.name}`).toBeDefined();
    const outputOf = (name: string, d: { values: bigint[]; ts: number[] }) => {
      const m = manifests.get(name)!;
      return reference[name]!(m.param === undefined ? undefined : BigInt(m.param), d.values, d.ts);
    };
    // every applet claims for every device with readings, a zero output too: proven, nothing to pay (issue 22)
    const claimsExpected = net.applets.length * devices.length;
    expect(claimsExpected).toBeGreaterThanOrEqual(devices.length);
    await waitFor(
      async () =>
        (await net.store.worker.claimCounts()).paid >= claimsExpected ||
        (await net.store.worker.claimCounts()).failed > 0,
      300_000,
    );
    expect((await net.store.worker.listClaims(100)).filter((c) => c.state === "failed").map((c) => c.error)).toEqual(
      [],
    );
    expect(await net.store.worker.claimCounts()).toMatchObject({ paid: claimsExpected, failed: 0 });

    for (const [i, d] of devices.entries()) {
      let expected = 0n;
      for (const a of net.applets) expected += outputOf(a.name, d) * BigInt(manifests.get(a.name)!.rewardPerUnit);
      expect(await net.admin.balanceOf(net.owners[i]!)).toBe(before[i]! + expected);
    }
  }, 600_000);

  it("stores runs that replay exactly and receipts that verify off-chain", async () => {
    const runs = await net.store.worker.listRuns(100);
    expect(runs.length).toBeGreaterThanOrEqual(net.applets.length * devices.length);
    for (const run of runs.slice(0, 4)) {
      const report = await replayRun({ runId: run.id, worker: net.store.worker, store: net.store });
      expect(report.mismatches).toEqual([]);
    }
    const paid = (await net.store.worker.listClaims(100)).filter((c) => c.state === "paid");
    // Each receipt against the applet it pays for (its built Wasm and applet.json), never against itself.
    const expected = net.applets.map((a) => appletFromPath(join(APPLETS_DIR, a.name)));
    for (const c of paid.slice(0, 2)) {
      const r = receiptFromJSON(c.receipt!);
      expect(r.seal.key, "a compiled applet's receipt").toMatch(/^[0-9a-f]{64}$/);
      const applet = expected.find((a) => a.imageId === r.claim.imageId);
      expect(applet, r.claim.imageId).toBeDefined();
      expect(await verifyReceipt(r, { applet: applet! })).toBe(true);
      // The receipt traces back to the run that made its claim.
      expect(r.journalDigest).toBe((await net.store.worker.getRun(c.run_id))!.journal_digest);
    }
  });

  it("never pays a device-epoch twice", async () => {
    const claim = (await net.store.worker.listClaims(100)).find((c) => c.state === "paid")!;
    const calldata = await net.store.worker.calldataOf(claim.id);
    const owner = net.owners[0]!;
    const balance = await net.admin.balanceOf(owner);
    await expect(net.admin.claim(calldata)).rejects.toSatisfy(
      (e: unknown) => e instanceof ContractRevertedError && e.errorName === "PayoutVault__AlreadyClaimed",
    );
    expect(await net.admin.balanceOf(owner)).toBe(balance);
  });

  it("refuses forged and replayed readings before they can reach a proof", async () => {
    const [a, b] = devices;
    const count = await net.store.countReadings(a!.key.deviceId);
    const head = await a!.client.chainState();
    // A reading for device A signed with device B's key.
    const forged = {
      deviceId: a!.key.deviceId.toString(),
      seq: (head.seq + 1n).toString(),
      ts: String(base + 2 * EPOCH + 100),
      values: ["999", "0", "0", "0"],
      prev: head.lastHash.toString(),
    };
    const { hashReading } = await import("../device-sdk/index.ts");
    const h = hashReading({
      deviceId: a!.key.deviceId,
      seq: head.seq + 1n,
      ts: BigInt(forged.ts),
      values: [999n, 0n, 0n, 0n],
      prev: head.lastHash,
    });
    const s = net.backend.sign(b!.key.privateKey, h);
    const post = (body: unknown) =>
      fetch(`${net.gatewayUrl}/v1/devices/${a!.key.deviceId}/readings`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    const r1 = await post({
      ...forged,
      signature: { R8x: s.R8x.toString(), R8y: s.R8y.toString(), S: s.S.toString() },
    });
    expect(r1.status).toBe(401);
    // A replay of an accepted reading with other content: refused as a fork.
    const old = (await net.store.listReadings({ deviceId: a!.key.deviceId, limit: 100 })).find((r) => r.signature)!;
    const r2 = await post({
      deviceId: old.deviceId.toString(),
      seq: old.seq.toString(),
      ts: old.ts.toString(),
      values: ["12345", "0", "0", "0"],
      prev: old.prev.toString(),
      signature: old.signature && {
        R8x: old.signature.R8x.toString(),
        R8y: old.signature.R8y.toString(),
        S: old.signature.S.toString(),
      },
    });
    expect([401, 409]).toContain(r2.status);
    expect(await net.store.countReadings(a!.key.deviceId)).toBe(count);
  });

  it("a trapping applet yields a failed run and no claim while other applets go on", async () => {
    const imageId = (await import("node:crypto")).createHash("sha256").update(trapAppletWasm()).digest("hex");
    net.worker.addApplet({ imageId, name: "trap", wasm: trapAppletWasm(), rewardPerUnit: 1n }, base);
    await waitFor(
      async () => (await net.store.worker.listRuns(500)).filter((r) => r.image_id === imageId).length >= devices.length,
      60_000,
    );
    const runs = (await net.store.worker.listRuns(500)).filter((r) => r.image_id === imageId);
    for (const r of runs) expect(r.trap).toMatch(/OutOfFuel/);
    expect((await net.store.worker.listClaims(500)).filter((c) => c.image_id === imageId)).toEqual([]);
  });
});
